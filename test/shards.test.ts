/**
 * A Kubernetes Indexed Job simulated on one machine: N shard processes with JOB_COMPLETION_INDEX
 * set, one SIGKILLed and restarted as Kubernetes restarts its index, one SIGKILLed and its local
 * store deleted (a lost node) before it restarts from its snapshot. Together they complete exactly
 * the tasks of an unsharded run with identical results, and `runner gather` runs the fan-in stages.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RunStore } from '../packages/core/src/store/lmdb-store.js';
import { cliError, cliJson, runCli, spawnCli, type SpawnedRunner, tempProject, waitFor } from '@runner/test-helpers/cli';

const SYMBOLS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];
const N = 3;

const SUM_PLUGIN = `export default {
  name: 'sum',
  version: '1.0.0',
  schema: { type: 'object', properties: {} },
  async run(ctx) {
    const ups = [].concat(ctx.upstream.work ?? []);
    return { count: ups.length, sum: ups.reduce((a, u) => a + u.result.value, 0), ids: ups.map((u) => u.id).sort() };
  },
};
`;

const SPEC = `name: cluster
matrix: { symbol: [${SYMBOLS.join(', ')}], horizon: [1, 5] }
pool: { threads: 1 }
lease: { heartbeatMs: 200, ttlMs: 5000 }
plugins: [./sum.mjs]
stages:
  - id: prep
    plugin: steps
    per: [symbol]
    options: { steps: 5, stepMs: 2, seed: 3 }
  - id: work
    plugin: steps
    needs: [prep]
    options: { steps: 30, stepMs: 10, checkpointEvery: 5, seed: 11, traceFile: trace.log }
  - id: total
    plugin: sum
    needs: [work]
    per: []
  - id: byHorizon
    plugin: sum
    needs: [work]
    per: [horizon]
`;

interface TaskRow {
  id: string;
  state: string;
  result: Record<string, unknown> | null;
}

async function tasks(dir: string): Promise<Map<string, TaskRow>> {
  const rows = await cliJson<TaskRow[]>(['tasks', 'job.yaml'], { cwd: dir });
  return new Map(rows.map((r) => [r.id, r]));
}

/** Results without what depends on how the work was interrupted (steps executed, resume point). */
function stable(r: Record<string, unknown> | null): unknown {
  if (!r) return r;
  const { executed: _e, resumedFrom: _r, executedTotal: _t, ...rest } = r;
  return rest;
}

function shard(dir: string, i: number): SpawnedRunner {
  return spawnCli(['start', 'job.yaml', '--plain', '--snapshot-dir', 'shared'], {
    cwd: dir,
    env: { JOB_COMPLETION_INDEX: String(i), RUNNER_SHARD_COUNT: String(N), RUNNER_SNAPSHOT_EVERY: '150ms' },
  });
}

function shardStoreIds(dir: string, i: number): Promise<string[]> {
  const s = RunStore.open(join(dir, 'runs', 'cluster', `shard-${i}-of-${N}`), { readOnly: true });
  const ids = s.allTasks().filter((t) => t.state === 'completed').map((t) => t.id);
  return s.close().then(() => ids);
}

describe('shards on a simulated cluster', () => {
  test('kill one shard, lose another one’s local store: together they equal an unsharded run, and gather fans in', async () => {
    const files = { 'job.yaml': SPEC, 'sum.mjs': SUM_PLUGIN };
    const clean = tempProject(files, 'runner-shards-base-');
    const base = await runCli(['start', 'job.yaml', '--plain'], { cwd: clean });
    expect(base.code, base.stderr).toBe(0);
    const expected = await tasks(clean);
    expect(expected.size).toBe(SYMBOLS.length * 3 + 1 + 2);

    const dir = tempProject(files, 'runner-shards-');
    const procs = Array.from({ length: N }, (_, i) => shard(dir, i));

    // Shard 1: SIGKILL right after a task completes; Kubernetes starts the index again.
    await waitFor(() => procs[1]!.output().includes('done  work/'), 60_000, 'shard 1 to complete a task').catch((e) => {
      throw new Error(`${e.message}; its output:\n${procs[1]!.output()}`);
    });
    procs[1]!.child.kill('SIGKILL');
    expect((await procs[1]!.done).signal).toBe('SIGKILL');
    procs[1] = shard(dir, 1);

    // Shard 2: its node is lost once a snapshot holds completed work: SIGKILL and no local store.
    const current = join(dir, 'shared', 'cluster', `shard-2-of-${N}`, 'CURRENT');
    await waitFor(() => procs[2]!.output().includes('done  work/') && existsSync(current) && snapshotHasCompleted(dir), 60_000, 'a snapshot of shard 2 with completed work');
    procs[2]!.child.kill('SIGKILL');
    const killed = await procs[2]!.done;
    expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
    rmSync(join(dir, 'runs', 'cluster', `shard-2-of-${N}`), { recursive: true, force: true });
    procs[2] = shard(dir, 2);

    let timer: NodeJS.Timeout | undefined;
    const ends = await Promise.race([
      Promise.all(procs.map((p) => p.done)),
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`shards did not finish:\n${procs.map((p, i) => `--- shard ${i}:\n${p.output()}`).join('\n')}`)), 150_000);
      }),
    ]).finally(() => clearTimeout(timer));
    for (const e of ends) expect(e.code, e.stdout + e.stderr).toBe(0);
    // The restarted shard 2 began from its snapshot, with completed work in it.
    expect(ends[2]!.stdout).toMatch(/restored snapshot \d+/);
    const startLine = /cluster: \d+ tasks \((\d+) completed/.exec(ends[2]!.stdout);
    expect(Number(startLine?.[1])).toBeGreaterThan(0);

    // Each cell's tasks ran in exactly one shard; upstream copies only where their cells are.
    const perShard = await Promise.all(Array.from({ length: N }, (_, i) => shardStoreIds(dir, i)));
    const owner = new Map<string, number>();
    for (const [i, ids] of perShard.entries()) {
      expect(ids.length, `shard ${i} has work`).toBeGreaterThan(0);
      for (const id of ids.filter((x) => x.startsWith('work/'))) {
        expect(owner.has(id), `${id} ran in shards ${owner.get(id)} and ${i}`).toBe(false);
        owner.set(id, i);
      }
    }
    expect(owner.size).toBe(SYMBOLS.length * 2);
    for (const [i, ids] of perShard.entries()) {
      for (const id of ids.filter((x) => x.startsWith('prep/'))) {
        const sym = /symbol=([A-Z])/.exec(id)![1];
        expect([...owner].some(([w, s]) => s === i && w.includes(`symbol=${sym}/`)), `${id} in shard ${i}`).toBe(true);
      }
    }
    const fanIn = [...expected.keys()].filter((id) => id.startsWith('total/') || id.startsWith('byHorizon/'));
    for (const ids of perShard) for (const id of fanIn) expect(ids).not.toContain(id);

    const status = await cliJson(['status', 'job.yaml', '--shards', 'shared/cluster'], { cwd: dir });
    expect(status).toMatchObject({ shards: N, found: N, missing: [], key: ['symbol'] });
    expect(status.tasks.completed).toBe(status.tasks.total);
    expect(status.gather).toMatchObject({ started: false, stages: ['total', 'byHorizon'] });

    // Gather from the shared snapshots only, as the gather Job does.
    const g = await runCli(['gather', 'job.yaml', '--plain', '--shards', 'shared/cluster'], { cwd: dir });
    expect(g.code, g.stdout + g.stderr).toBe(0);
    expect(g.stdout).toContain('3 fan-in tasks to run here');
    const got = await tasks(dir);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, row] of expected) {
      const r = got.get(id)!;
      expect(r.state, id).toBe('completed');
      expect(stable(r.result), id).toEqual(stable(row.result));
    }
    expect((got.get('total/cycle=1')!.result as { count: number }).count).toBe(SYMBOLS.length * 2);

    // Every work task executed all its steps; the kills and the lost node cost redone steps only.
    const executed = new Map<string, number>();
    for (const line of readFileSync(join(dir, 'trace.log'), 'utf8').split('\n')) {
      if (line) executed.set(line.slice(0, line.lastIndexOf(' ')), (executed.get(line.slice(0, line.lastIndexOf(' '))) ?? 0) + 1);
    }
    for (const id of owner.keys()) expect(executed.get(id) ?? 0, id).toBeGreaterThanOrEqual(30);

    // Gathering again changes nothing and runs nothing.
    const again = await runCli(['gather', 'job.yaml', '--plain', '--shards', 'shared/cluster'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('0 results new or changed');
    expect(again.stdout).not.toContain('start total/');
  }, 240_000);
});

/** Does shard 2's newest snapshot hold a completed work task? */
function snapshotHasCompleted(dir: string): boolean {
  const root = join(dir, 'shared', 'cluster', `shard-2-of-${N}`);
  try {
    const seq = readFileSync(join(root, 'CURRENT'), 'utf8').trim().padStart(8, '0');
    const s = RunStore.open(join(root, 'snapshots', seq), { readOnly: true });
    try {
      return s.allTasks().some((t) => t.stage === 'work' && t.state === 'completed');
    } finally {
      void s.close();
    }
  } catch {
    return false;
  }
}

describe('one writer per shard', () => {
  const spec = `name: lease
matrix: { symbol: [A, B, C, D] }
pool: { threads: 1 }
lease: { heartbeatMs: 100, ttlMs: 1000 }
stages:
  - id: work
    plugin: steps
    options: { steps: 200, stepMs: 10, checkpointEvery: 20 }
`;
  const start = (dir: string) => spawnCli(['start', 'job.yaml', '--plain', '--shard', '0/1', '--snapshot-dir', 'shared', '--snapshot-every', '100ms'], { cwd: dir });

  test('a second runner for the same shard does not start while the first holds the lease', async () => {
    const dir = tempProject({ 'job.yaml': spec }, 'runner-lease-it-');
    const first = start(dir);
    await waitFor(() => first.output().includes('start work/'), 60_000, 'the first runner to work');
    const second = await runCli(['start', 'job.yaml', '--plain', '--shard', '0/1', '--snapshot-dir', 'shared'], { cwd: dir });
    expect(second.code, second.stdout + second.stderr).toBe(1);
    expect(cliError(second).code).toBe('RUNNER_SHARD_LEASE');
    expect(second.stderr).toMatch(/held by pid \d+/);
    first.child.kill('SIGKILL');
    await first.done;
    // Its holder is gone (same host: the pid tells), so the next one takes over at once.
    const third = await runCli(['start', 'job.yaml', '--plain', '--shard', '0/1', '--snapshot-dir', 'shared'], { cwd: dir });
    expect(third.code, third.stdout + third.stderr).toBe(0);
  }, 120_000);

  test('a runner whose lease was taken over stops and publishes no further snapshot', async () => {
    const dir = tempProject({ 'job.yaml': spec }, 'runner-lease-it-');
    const root = join(dir, 'shared', 'lease', 'shard-0-of-1');
    const r = start(dir);
    await waitFor(() => existsSync(join(root, 'CURRENT')) && r.output().includes('start work/'), 60_000, 'a first snapshot');
    // Another node takes the shard over (as after a network partition): generation 2.
    const { writeFileSync } = await import('node:fs');
    const before = Number(readFileSync(join(root, 'CURRENT'), 'utf8'));
    writeFileSync(join(root, 'lease-000002.json'), JSON.stringify({ gen: 2, host: 'node-b', pid: 1, token: 't', acquiredAt: Date.now(), renewedAt: Date.now(), ttlMs: 60_000 }));
    const res = await r.done;
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stdout + res.stderr).toContain('lost the lease');
    // At most the one snapshot already past its lease check when the takeover landed; none after,
    // and no final snapshot at exit.
    expect(Number(readFileSync(join(root, 'CURRENT'), 'utf8'))).toBeLessThanOrEqual(before + 1);
    expect(res.stdout).toMatch(/interrupted after .*: [0-3]\/4 completed/);
  }, 120_000);
});

describe('gather refuses a partial fan-in', () => {
  test('a missing shard, then a shard with a failed task: refused, and --wait does not wait for a failure', async () => {
    const dir = tempProject(
      {
        'job.yaml': `name: partial
matrix: { symbol: [A, B, C, D, E, F] }
pool: { threads: 1 }
stages:
  - { id: work, plugin: steps, options: { steps: 3 } }
  - { id: bad, plugin: steps, needs: [work], options: { steps: 3, failAtStep: 2, failTimes: 9 }, retries: { max: 0 } }
  - { id: total, plugin: steps, needs: [bad], per: [] }
`,
      },
      'runner-partial-',
    );
    const s0 = await runCli(['start', 'job.yaml', '--plain', '--shard', '0/2'], { cwd: dir });
    expect(s0.code, s0.stdout + s0.stderr).toBe(1); // its bad tasks failed
    const missing = await runCli(['gather', 'job.yaml', '--plain'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(cliError(missing).code).toBe('RUNNER_SHARDS_INCOMPLETE');
    expect(missing.stderr).toContain('not found: shard 1 of 2');
    const s1 = await runCli(['start', 'job.yaml', '--plain', '--shard', '1/2'], { cwd: dir });
    expect(s1.code).toBe(1);
    const waited = await runCli(['gather', 'job.yaml', '--plain', '--wait', '--poll-every', '100ms'], { cwd: dir });
    expect(waited.code).toBe(1);
    expect(waited.stderr).toMatch(/failed or cancelled/);
    expect(waited.stdout).not.toContain('start total/');
  }, 120_000);
});
