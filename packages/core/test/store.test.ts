import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { open } from 'lmdb';
import { STORE_FILE } from '../src/store/db.js';
import { RunStore } from '../src/store/lmdb-store.js';
import { closeStores, store, task } from './store-fixture.js';
import type { CheckpointRecord, OwnerRef } from '../src/store/types.js';

afterEach(closeStores);
const owner = (n: string): OwnerRef => ({ id: `host:${n}`, pid: 1, host: 'host' });
/** Claims as a registered runner (claim() refuses unregistered ones). */
async function claim(s: RunStore, ids: string[], o: OwnerRef) {
  await s.registerOwner({ ...o, startedAt: Date.now(), heartbeatAt: Date.now(), leaseMs: 60_000, argv: [] });
  return s.claim(ids, o);
}

function ckpt(taskId: string, seq: number, extra: Partial<CheckpointRecord> = {}): CheckpointRecord {
  return { taskId, seq, type: 'periodic', step: seq * 10, time: Date.now(), size: 1, checksum: 'x', fingerprint: 'f1', pluginVersion: '1.0.0', payload: new Uint8Array([seq]), ...extra };
}

describe('RunStore', () => {
  test('read-only, before its runner committed the first transaction (the file exists, its databases not yet), the store reads as empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-store-'));
    // What a reader can meet while `runner start` creates the store: the environment, no databases.
    const bare = open({ path: join(dir, STORE_FILE), noSubdir: true, maxDbs: 128 });
    await bare.close();
    const r = RunStore.open(dir, { readOnly: true });
    try {
      expect([...r.stateEntries()]).toEqual([]);
      expect([...r.storedTasks()]).toEqual([]);
      expect(r.getTask('w/cycle=1')).toBeUndefined();
      expect(r.listOwners()).toEqual([]);
      expect(r.getMeta()).toBeUndefined();
      expect([...r.eventsNewestFirst()]).toEqual([]);
      expect(r.counts().pending).toBe(0);
      expect(() => r.listCheckpoints('w/cycle=1')).not.toThrow();
    } finally {
      await r.close();
    }
    // Once the runner has written, a new read-only handle sees it.
    const w = store(dir);
    await w.syncPlan([task('w/cycle=1')], new Map());
    const again = RunStore.open(dir, { readOnly: true });
    try {
      expect(again.getTask('w/cycle=1')?.state).toBe('pending');
    } finally {
      await again.close();
    }
  });

  test('claims are atomic across two handles on the same store', async () => {
    const a = store();
    const b = store(a.dir);
    const ids = Array.from({ length: 200 }, (_, i) => `w/i=${i}/cycle=1`);
    await a.syncPlan(ids.map((id) => task(id)), new Map());
    const [ca, cb] = await Promise.all([claim(a, ids, owner('a')), claim(b, [...ids].reverse(), owner('b'))]);
    expect(ca.length + cb.length).toBe(200);
    const both = new Set(ca.map((r) => r.id));
    expect(cb.some((r) => both.has(r.id))).toBe(false);
  });

  test('only the owner can finish a task; a task reset as stale is not overwritten', async () => {
    const s = store();
    await s.syncPlan([task('w/cycle=1')], new Map());
    await claim(s, ['w/cycle=1'], owner('a'));
    await s.resetStale((o) => o.id === 'host:a');
    const reset = s.getTask('w/cycle=1')!;
    expect(reset.state).toBe('pending');
    expect(reset.attempts).toBe(1);
    expect(reset.notes.at(-1)).toContain('interrupted; resumed after restart');
    await claim(s, ['w/cycle=1'], owner('b'));
    expect(await s.finish('w/cycle=1', 'host:a', { state: 'completed', result: 1, runMs: 1 })).toBeUndefined();
    const done = await s.finish('w/cycle=1', 'host:b', { state: 'completed', result: 2, runMs: 1 });
    expect(done?.record).toMatchObject({ state: 'completed', result: 2, attempts: 2 });
  });

  test('checkpoints keep the newest N and report files to delete; a non-owner save is refused', async () => {
    const s = store();
    await s.syncPlan([task('w/cycle=1')], new Map());
    await claim(s, ['w/cycle=1'], owner('a'));
    const removed: string[] = [];
    for (let seq = 1; seq <= 5; seq++) {
      const r = await s.saveCheckpoint(ckpt('w/cycle=1', seq, seq === 1 ? { file: 'f1.ckpt', payload: undefined } : {}), 3, 'host:a');
      removed.push(...r.removedFiles);
    }
    expect(s.listCheckpoints('w/cycle=1').map((c) => c.seq)).toEqual([5, 4, 3]);
    expect(removed).toEqual(['f1.ckpt']);
    expect(s.getTask('w/cycle=1')!.lastCheckpoint).toMatchObject({ seq: 5, step: 50 });
    const stale = await s.saveCheckpoint(ckpt('w/cycle=1', 6, { file: 'x.ckpt' }), 3, 'host:other');
    expect(stale).toEqual({ removedFiles: ['x.ckpt'], stale: true });
    await s.finish('w/cycle=1', 'host:a', { state: 'completed', result: null, runMs: 1 }, { keep: 3, keepOnComplete: 1 });
    expect(s.listCheckpoints('w/cycle=1').map((c) => c.seq)).toEqual([5]);
  });

  test('changed options reopen a completed task and everything downstream; raised targets reopen it too', async () => {
    const s = store();
    const deps = new Map([['a/cycle=1', ['b/cycle=1']], ['b/cycle=1', ['c/cycle=1']]]);
    const plan = [task('a/cycle=1'), task('b/cycle=1', { needs: ['a/cycle=1'] }), task('c/cycle=1', { needs: ['b/cycle=1'] })];
    await s.syncPlan(plan, deps);
    for (const t of plan) {
      await claim(s, [t.id], owner('a'));
      await s.finish(t.id, 'host:a', { state: 'completed', result: t.id, runMs: 1 });
    }
    const sync = await s.syncPlan([{ ...plan[0]!, fingerprint: 'f2' }, plan[1]!, plan[2]!], deps);
    expect(sync.rerun).toEqual([
      { id: 'a/cycle=1', reason: 'its options changed' },
      { id: 'b/cycle=1', reason: 'upstream a/cycle=1 reruns' },
      { id: 'c/cycle=1', reason: 'upstream b/cycle=1 reruns' },
    ]);
    expect(s.getTask('c/cycle=1')).toMatchObject({ state: 'pending', result: undefined });
    for (const t of plan) {
      await claim(s, [t.id], owner('a'));
      await s.finish(t.id, 'host:a', { state: 'completed', result: t.id, runMs: 1 });
    }
    const raised = await s.syncPlan([{ ...plan[0]!, fingerprint: 'f2' }, plan[1]!, { ...plan[2]!, targets: 't2' }], deps);
    expect(raised.rerun).toEqual([{ id: 'c/cycle=1', reason: 'a resume-safe target changed; it resumes from its last checkpoint' }]);
  });

  test('cancel flags running tasks for their owner and cancels pending ones; resume moves them back', async () => {
    const s = store();
    await s.syncPlan([task('a/cycle=1'), task('b/cycle=1'), task('c/cycle=1')], new Map());
    await claim(s, ['a/cycle=1'], owner('a'));
    await claim(s, ['c/cycle=1'], owner('a'));
    await s.finish('c/cycle=1', 'host:a', { state: 'completed', result: 1, runMs: 1 });
    const res = await s.cancel(['a/cycle=1', 'b/cycle=1', 'c/cycle=1'], () => false);
    expect(res.cancelled).toEqual(['b/cycle=1']);
    expect(res.requested).toEqual(['a/cycle=1']);
    expect(res.skipped.map((t) => t.id)).toEqual(['c/cycle=1']);
    expect(s.getTask('a/cycle=1')!.cancelRequested).toBe(true);
    const r = await s.resume(['b/cycle=1', 'c/cycle=1']);
    expect(r.resumed.map((t) => t.id)).toEqual(['b/cycle=1']);
    expect(s.getTask('b/cycle=1')!.state).toBe('pending');
  });

  test('every state change appends to the event feed other runners tail', async () => {
    const s = store();
    await s.syncPlan([task('a/cycle=1')], new Map());
    await s.registerOwner({ ...owner('a'), startedAt: 0, heartbeatAt: 0, leaseMs: 0, argv: [] });
    const before = s.lastEventSeq();
    await s.claim(['a/cycle=1'], owner('a'));
    await s.finish('a/cycle=1', 'host:a', { state: 'failed', error: { name: 'Error', message: 'boom' }, runMs: 1 });
    const evs = [...s.eventsAfter(before)];
    // Claims are not in the feed (a claim that loses a race finds out at once); endings are.
    expect(evs.map((e) => [e.type, e.task, e.state, e.owner])).toEqual([['task:end', 'a/cycle=1', 'failed', 'host:a']]);
    expect([...s.stateEntries()]).toEqual([['a/cycle=1', ['failed', 0, '']]]);
    expect(s.getTask('a/cycle=1')).toMatchObject({ failures: 1, retriesUsed: 1 });
  });

  test('typed arrays survive the store', async () => {
    const s = store();
    await s.syncPlan([task('a/cycle=1')], new Map());
    await claim(s, ['a/cycle=1'], owner('a'));
    await s.finish('a/cycle=1', 'host:a', { state: 'completed', result: { w: new Float32Array([1.5, -2]) }, runMs: 1 });
    const r = s.getTask('a/cycle=1')!.result as { w: Float32Array };
    expect(r.w).toBeInstanceOf(Float32Array);
    expect([...r.w]).toEqual([1.5, -2]);
  });

  test('claim() refuses a runner that is not registered (one taken for dead and removed)', async () => {
    const s = store();
    await s.syncPlan([task('a/cycle=1'), task('b/cycle=1')], new Map());
    await claim(s, ['a/cycle=1'], owner('a'));
    await s.resetStale((o) => o.id === 'host:a');
    await expect(s.claim(['b/cycle=1'], owner('a'))).rejects.toMatchObject({ code: 'RUNNER_LEASE_LOST' });
    expect(s.getTask('b/cycle=1')!.state).toBe('pending');
  });

  test('reset is one transaction and re-checks for live runners inside it', async () => {
    const s = store();
    const ids = Array.from({ length: 5000 }, (_, i) => `w/i=${i}/cycle=1`);
    await s.syncPlan(ids.map((id) => task(id)), new Map());
    await claim(s, ids.slice(0, 10), owner('a'));
    const seq = s.lastEventSeq();
    await expect(
      s.reset(ids, (owners) => {
        if (owners.length > 0) throw Object.assign(new Error('live'), { code: 'RUNNER_RUN_LOCKED' });
      }),
    ).rejects.toMatchObject({ code: 'RUNNER_RUN_LOCKED' });
    expect(s.getTask(ids[0]!)!.state).toBe('running');
    expect(s.lastEventSeq()).toBe(seq);
    await s.removeOwner('host:a');
    const r = await s.reset(ids, (owners) => expect(owners).toEqual([]));
    expect(r.count).toBe(5000);
    // One feed event for the whole reset: it was one transaction, not slices.
    expect([...s.eventsAfter(seq + 1)].filter((e) => e.type === 'run:reset')).toHaveLength(1);
    expect([...s.stateEntries()].every(([, e]) => e[0] === 'pending')).toBe(true);
  });

  test('outside readers get named methods, not the databases: stored tasks, owners, checkpoint keys, a copy, a plugin database', async () => {
    const s = store();
    await s.syncPlan([task('b/cycle=1'), task('a/cycle=1')], new Map());
    await claim(s, ['a/cycle=1', 'b/cycle=1'], owner('a'));
    expect(s.getOwner('host:a')).toMatchObject({ id: 'host:a', leaseMs: 60_000 });
    expect(s.getOwner('host:nobody')).toBeUndefined();
    await s.saveCheckpoint(ckpt('b/cycle=1', 1), 3, 'host:a');
    await s.saveCheckpoint(ckpt('a/cycle=1', 1), 3, 'host:a');
    await s.saveCheckpoint(ckpt('a/cycle=1', 2), 3, 'host:a');
    expect([...s.checkpointKeys()]).toEqual([['a/cycle=1', 1], ['a/cycle=1', 2], ['b/cycle=1', 1]]);
    expect([...s.storedTasks()].map((e) => [e.key, e.value.state])).toEqual([['a/cycle=1', 'running'], ['b/cycle=1', 'running']]);

    const db = s.openDb('plugin:test:notes')!;
    await db.put('k', { n: new Float64Array([1, 2]) });
    const copied = mkdtempSync(join(tmpdir(), 'runner-store-copy-'));
    await s.copyTo(join(copied, 'store.mdb'));
    const c = store(copied);
    expect(c.getTask('a/cycle=1')).toMatchObject({ state: 'running', lastCheckpoint: { seq: 2 } });
    expect([...c.checkpointKeys()]).toHaveLength(3);
    expect((c.openDb('plugin:test:notes')!.get('k') as { n: Float64Array }).n).toEqual(new Float64Array([1, 2]));
  });
});
