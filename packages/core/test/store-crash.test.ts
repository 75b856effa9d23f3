/** The store's side of the crash rule (run/crash-rule.ts) and of ending a parent. */
import { afterEach, describe, expect, test } from 'vitest';
import type { RunStore } from '../src/store/lmdb-store.js';
import { closeStores, store, task } from './store-fixture.js';
import type { OwnerRecord } from '../src/store/types.js';
import { HOST, procStartTime } from '../src/util/proc.js';

afterEach(closeStores);

/** A runner that died: its pid does not exist. */
async function deadRunner(s: RunStore, n: number, extra: Partial<OwnerRecord> = {}): Promise<OwnerRecord> {
  const o: OwnerRecord = { id: `host:dead${n}`, pid: 2 ** 22 + n, host: HOST, procStart: procStartTime(process.pid), startedAt: 0, heartbeatAt: 0, leaseMs: 1000, argv: [], ...extra };
  await s.registerOwner(o);
  return o;
}

async function die(s: RunStore, ids: string[], n: number, extra: Partial<OwnerRecord> = {}, before?: (o: OwnerRecord) => void | Promise<void>): Promise<void> {
  const o = await deadRunner(s, n, extra);
  await s.claim(ids, o);
  await before?.(o);
  await s.resetStale((ref) => ref.id === o.id);
}

describe('runner deaths', () => {
  test('two deaths in a row without progress quarantine a task; a checkpoint in between clears the count', async () => {
    const s = store();
    await s.syncPlan([task('w/a/cycle=1'), task('w/b/cycle=1')], new Map());
    await die(s, ['w/a/cycle=1', 'w/b/cycle=1'], 1);
    expect(s.getTask('w/a/cycle=1')).toMatchObject({ state: 'pending', suspect: { deaths: 1, peers: ['w/b/cycle=1'] } });
    // b saves a checkpoint in the next attempt: it made progress, a did not.
    await die(s, ['w/a/cycle=1', 'w/b/cycle=1'], 2, {}, async (o) => {
      await s.saveCheckpoint({ taskId: 'w/b/cycle=1', seq: 1, type: 'periodic', step: 1, time: Date.now(), size: 1, checksum: 'x', fingerprint: 'f1', pluginVersion: '1.0.0', payload: new Uint8Array([1]) }, 3, o.id);
    });
    const a = s.getTask('w/a/cycle=1')!;
    expect(a).toMatchObject({ quarantine: true, suspect: { deaths: 2, peers: [] } });
    expect(a.notes.at(-1)).toMatch(/quarantined: it was running at each of the last 2 runner deaths without saving a checkpoint \(alone\)/);
    expect(s.getTask('w/b/cycle=1')!.suspect).toBeUndefined();
    expect(s.getTask('w/b/cycle=1')!.quarantine).toBeUndefined();
    // It stays quarantined across a clean interruption, and not after it ends.
    const o = await deadRunner(s, 3);
    await s.claim(['w/a/cycle=1'], o);
    expect((await s.finish('w/a/cycle=1', o.id, { state: 'pending', runMs: 1, note: 'interrupted by SIGINT' }))!.record.quarantine).toBe(true);
    await s.claim(['w/a/cycle=1'], o);
    expect((await s.finish('w/a/cycle=1', o.id, { state: 'completed', result: 1, runMs: 1 }))!.record.quarantine).toBeUndefined();
  });

  test('a second Ctrl+C and a reboot are explained deaths: they never count', async () => {
    const s = store();
    await s.syncPlan([task('w/cycle=1')], new Map());
    for (let n = 0; n < 3; n++) await die(s, ['w/cycle=1'], n, {}, (o) => s.markExiting(o.id));
    for (let n = 3; n < 6; n++) await die(s, ['w/cycle=1'], n, { procStart: 'another-boot:123' });
    expect(s.getTask('w/cycle=1')).toMatchObject({ state: 'pending', attempts: 6 });
    expect(s.getTask('w/cycle=1')!.suspect).toBeUndefined();
    expect(s.getTask('w/cycle=1')!.quarantine).toBeUndefined();
    // Another host's boot id says nothing about a reboot here: those deaths count.
    for (let n = 6; n < 8; n++) await die(s, ['w/cycle=1'], n, { host: 'elsewhere', procStart: 'another-boot:123' });
    expect(s.getTask('w/cycle=1')).toMatchObject({ quarantine: true, suspect: { deaths: 2 } });
  });

  test('a parent that ends cancels its children still pending; a parent waiting on a running child is no suspect', async () => {
    const s = store();
    await s.syncPlan([task('hpo/cycle=1')], new Map());
    await s.ensureChild(task('hpo/cycle=1/trial=0', { parent: 'hpo/cycle=1' }));
    await s.ensureChild(task('hpo/cycle=1/trial=1', { parent: 'hpo/cycle=1' }));
    for (let n = 0; n < 2; n++) await die(s, ['hpo/cycle=1', 'hpo/cycle=1/trial=1'], n);
    expect(s.getTask('hpo/cycle=1')!.suspect).toBeUndefined();
    expect(s.getTask('hpo/cycle=1/trial=1')!.quarantine).toBe(true);
    const o = await deadRunner(s, 9);
    await s.claim(['hpo/cycle=1'], o);
    await s.finish('hpo/cycle=1', o.id, { state: 'completed', result: {}, runMs: 1 });
    for (const id of ['hpo/cycle=1/trial=0', 'hpo/cycle=1/trial=1']) {
      const c = s.getTask(id)!;
      expect(c.state, id).toBe('cancelled');
      expect(c.notes.at(-1)).toMatch(/cancelled: its parent completed without needing it any more/);
    }
    expect([...s.eventsAfter(0)].filter((e) => e.type === 'task:cancel').map((e) => e.task)).toEqual(['hpo/cycle=1/trial=0', 'hpo/cycle=1/trial=1']);
  });
});
