import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { RunStore, type PlannedTaskInput } from '../src/store/lmdb-store.js';
import type { CheckpointRecord, OwnerRef } from '../src/store/types.js';

const open: RunStore[] = [];
function store(dir = mkdtempSync(join(tmpdir(), 'runner-store-'))): RunStore {
  const s = RunStore.open(dir);
  open.push(s);
  return s;
}
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const task = (id: string, extra: Partial<PlannedTaskInput> = {}): PlannedTaskInput => ({
  id,
  stage: id.split('/')[0]!,
  plugin: 'steps',
  cell: {},
  cycle: 1,
  needs: [],
  fingerprint: 'f1',
  targets: 't1',
  pluginVersion: '1.0.0',
  ...extra,
});
const owner = (n: string): OwnerRef => ({ id: `host:${n}`, pid: 1, host: 'host' });

function ckpt(taskId: string, seq: number, extra: Partial<CheckpointRecord> = {}): CheckpointRecord {
  return { taskId, seq, type: 'periodic', step: seq * 10, time: Date.now(), size: 1, checksum: 'x', fingerprint: 'f1', pluginVersion: '1.0.0', payload: new Uint8Array([seq]), ...extra };
}

describe('RunStore', () => {
  test('claims are atomic across two handles on the same store', async () => {
    const a = store();
    const b = store(a.dir);
    const ids = Array.from({ length: 200 }, (_, i) => `w/i=${i}/cycle=1`);
    await a.syncPlan(ids.map((id) => task(id)), new Map());
    const [ca, cb] = await Promise.all([a.claim(ids, owner('a')), b.claim([...ids].reverse(), owner('b'))]);
    expect(ca.length + cb.length).toBe(200);
    const both = new Set(ca.map((r) => r.id));
    expect(cb.some((r) => both.has(r.id))).toBe(false);
  });

  test('only the owner can finish a task; a task reset as stale is not overwritten', async () => {
    const s = store();
    await s.syncPlan([task('w/cycle=1')], new Map());
    await s.claim(['w/cycle=1'], owner('a'));
    await s.resetStale((o) => o.id === 'host:a');
    const reset = s.getTask('w/cycle=1')!;
    expect(reset.state).toBe('pending');
    expect(reset.attempts).toBe(1);
    expect(reset.notes.at(-1)).toContain('interrupted; resumed after restart');
    await s.claim(['w/cycle=1'], owner('b'));
    expect(await s.finish('w/cycle=1', 'host:a', { state: 'completed', result: 1, runMs: 1 })).toBeUndefined();
    const done = await s.finish('w/cycle=1', 'host:b', { state: 'completed', result: 2, runMs: 1 });
    expect(done?.record).toMatchObject({ state: 'completed', result: 2, attempts: 2 });
  });

  test('checkpoints keep the newest N and report files to delete; a non-owner save is refused', async () => {
    const s = store();
    await s.syncPlan([task('w/cycle=1')], new Map());
    await s.claim(['w/cycle=1'], owner('a'));
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
      await s.claim([t.id], owner('a'));
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
      await s.claim([t.id], owner('a'));
      await s.finish(t.id, 'host:a', { state: 'completed', result: t.id, runMs: 1 });
    }
    const raised = await s.syncPlan([{ ...plan[0]!, fingerprint: 'f2' }, plan[1]!, { ...plan[2]!, targets: 't2' }], deps);
    expect(raised.rerun).toEqual([{ id: 'c/cycle=1', reason: 'a resume-safe target changed; it resumes from its last checkpoint' }]);
  });

  test('cancel flags running tasks for their owner and cancels pending ones; resume moves them back', async () => {
    const s = store();
    await s.syncPlan([task('a/cycle=1'), task('b/cycle=1'), task('c/cycle=1')], new Map());
    await s.claim(['a/cycle=1'], owner('a'));
    await s.claim(['c/cycle=1'], owner('a'));
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
    await s.claim(['a/cycle=1'], owner('a'));
    await s.finish('a/cycle=1', 'host:a', { state: 'completed', result: { w: new Float32Array([1.5, -2]) }, runMs: 1 });
    const r = s.getTask('a/cycle=1')!.result as { w: Float32Array };
    expect(r.w).toBeInstanceOf(Float32Array);
    expect([...r.w]).toEqual([1.5, -2]);
  });
});
