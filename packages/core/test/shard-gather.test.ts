import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RunStore } from '../src/store/lmdb-store.js';
import type { PlannedTaskInput } from '../src/store/types.js';
import { rebase } from '../src/shard/gather.js';

const task = (id: string, needs: string[] = []): PlannedTaskInput => ({ id, stage: id.split('/')[0]!, plugin: 'steps', cell: {}, cycle: 1, needs, fingerprint: 'f1', targets: 't1', pluginVersion: '1.0.0' });
const owner = { id: 'host:a', pid: 1, host: 'host' };

async function completedIn(s: RunStore, id: string, result: unknown) {
  // claim() refuses a runner that is not registered.
  await s.registerOwner({ ...owner, startedAt: Date.now(), heartbeatAt: Date.now(), leaseMs: 60_000, argv: [] });
  await s.claim([id], owner);
  await s.finish(id, owner.id, { state: 'completed', result, runMs: 1 });
  return s.getTask(id)!;
}

describe('gathering shard results', () => {
  test('adopts completed records once; a changed one reopens the fan-in tasks that used it', async () => {
    const shard = RunStore.open(mkdtempSync(join(tmpdir(), 'runner-gather-')));
    const run = RunStore.open(mkdtempSync(join(tmpdir(), 'runner-gather-')));
    try {
      await shard.syncPlan([task('w/cycle=1')], new Map());
      const rec = await completedIn(shard, 'w/cycle=1', { v: 1 });
      const deps = new Map([['w/cycle=1', ['g/cycle=1']]]);
      expect(await run.adoptTasks([rec], deps, 'from shard 0')).toEqual({ adopted: ['w/cycle=1'], reopened: [] });
      const adopted = run.getTask('w/cycle=1')!;
      expect(adopted).toMatchObject({ state: 'completed', result: { v: 1 } });
      expect(adopted.owner).toBeUndefined();
      expect(adopted.notes.at(-1)).toContain('from shard 0');
      expect([...run.stateEntries()]).toEqual([['w/cycle=1', ['completed', 0, '']]]);

      await run.syncPlan([task('w/cycle=1'), task('g/cycle=1', ['w/cycle=1'])], deps);
      expect(run.getTask('w/cycle=1')!.state).toBe('completed');
      await completedIn(run, 'g/cycle=1', { sum: 1 });
      expect(await run.adoptTasks([rec], deps, 'again')).toEqual({ adopted: [], reopened: [] });

      const changed = { ...rec, result: { v: 2 }, endedAt: (rec.endedAt ?? 0) + 1000 };
      expect(await run.adoptTasks([changed], deps, 'rerun in shard')).toEqual({ adopted: ['w/cycle=1'], reopened: ['g/cycle=1'] });
      expect(run.getTask('g/cycle=1')).toMatchObject({ state: 'pending', result: undefined });
    } finally {
      await shard.close();
      await run.close();
    }
  });

  test('paths into the shard directory point at the gathered copies', () => {
    const r = rebase({ model: { final: '/l/runs/j/shard-0-of-2/artifacts/train/x' }, list: ['/l/runs/j/shard-0-of-2'], other: '/l/runs/j/shard-0-of-20/x', n: 3 }, '/l/runs/j/shard-0-of-2', '/l/runs/j');
    expect(r).toEqual({ model: { final: '/l/runs/j/artifacts/train/x' }, list: ['/l/runs/j'], other: '/l/runs/j/shard-0-of-20/x', n: 3 });
  });
});
