/**
 * Issue 9 §1: never two runners on one task at once. Real processes: a runner on a second
 * hostname (`unshare -u`), paused with SIGSTOP and resumed with SIGCONT; a deleted lock file;
 * the run directory removed under a running runner.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliError, cliJson, type CliResult, runCli, RUNNER_BIN, spawnCli, type SpawnedRunner, tempProject, waitFor } from '@runner/test-helpers/cli';

const canUnshare = spawnSync('unshare', ['-u', 'true']).status === 0;

function spec(n: number, stepMs: number, extra = ''): string {
  const symbols = Array.from({ length: n }, (_, i) => `S${i}`).join(', ');
  return `name: zombie
matrix: { symbol: [${symbols}] }
pool: { threads: 2 }
lease: { heartbeatMs: 100, ttlMs: 1000 }
${extra}stages:
  - id: work
    plugin: steps
    options: { steps: 20, stepMs: ${stepMs}, checkpointEvery: 5, traceFile: trace.log }
`;
}

function trace(dir: string): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const file = join(dir, 'trace.log');
  if (!existsSync(file)) return m;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const i = line.lastIndexOf(' ');
    const l = m.get(line.slice(0, i)) ?? [];
    l.push(Number(line.slice(i + 1)));
    m.set(line.slice(0, i), l);
  }
  return m;
}

/** `runner start` in its own UTS namespace, so it runs on another hostname. */
function spawnOnOtherHost(dir: string, host: string): SpawnedRunner {
  const child = spawn('unshare', ['-u', 'sh', '-c', `hostname ${host} && exec "${process.execPath}" "${RUNNER_BIN}" start job.yaml --plain`], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = new Promise<CliResult>((res) => child.on('close', (code, signal) => res({ code, signal, stdout: out, stderr: '' })));
  return { child, output: () => out, done };
}

const started = (out: string) => [...out.matchAll(/start (work\/\S+)/g)].map((m) => m[1]!);

describe('never two runners on one task', () => {
  test.skipIf(!canUnshare)('a runner taken for dead (SIGSTOP on another host) stops claiming and stops its tasks after SIGCONT', async () => {
    const dir = tempProject({ 'job.yaml': spec(8, 40) });
    const a = spawnOnOtherHost(dir, 'faults-host-a');
    await waitFor(() => started(a.output()).length >= 2, 20_000, 'runner A to start two tasks');
    a.child.kill('SIGSTOP');
    const heldByA = started(a.output());
    const b = spawnCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    // B takes A's tasks over once A's heartbeat has not moved for ttlMs on B's own clock.
    await waitFor(() => /attempt 2/.test(b.output()), 30_000, 'runner B to take over the paused runner\'s tasks');
    const atCont = a.output().length;
    a.child.kill('SIGCONT');
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(ra.code, ra.stdout).toBe(1);
    expect(ra.stdout).toMatch(/taken for dead|no longer registered/);
    // After SIGCONT, A started nothing.
    expect(started(ra.stdout.slice(atCont)), ra.stdout).toEqual([]);
    const steps = trace(dir);
    expect(steps.size).toBe(8);
    for (const [id, s] of steps) {
      if (heldByA.includes(id)) continue;
      // A task A never started ran once, on B only: every step exactly once.
      expect(s, id).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
    const tasks = await cliJson<{ id: string; state: string; result: { value: number } }[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(tasks.every((t) => t.state === 'completed')).toBe(true);
    expect(new Set(tasks.map((t) => t.result.value)).size).toBe(1);
  }, 90_000);

  test('a deleted lock file: the running runner stops, a second one refuses, and a rerun finishes without double work', async () => {
    const dir = tempProject({ 'job.yaml': spec(6, 40) });
    const a = spawnCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    await waitFor(() => started(a.output()).length >= 2, 20_000, 'runner A to start');
    unlinkSync(join(dir, 'runs/zombie/store.mdb-lock'));
    const b = spawnCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stdout + ra.stderr).toBe(1);
    expect(ra.stdout + ra.stderr).toMatch(/lock file .*store\.mdb-lock was (deleted|replaced)/);
    // B either found A still live (and refused) or started after A had stopped.
    if (rb.code !== 0) {
      expect(rb.code).toBe(1);
      expect(cliError(rb).code).toBe('RUNNER_LEASE_LOST');
      expect(rb.stderr).toMatch(/lock file was missing/);
    }
    const rc = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    expect(rc.code, rc.stdout + rc.stderr).toBe(0);
    const tasks = await cliJson<{ id: string; state: string }[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(tasks.every((t) => t.state === 'completed')).toBe(true);
    for (const [id, s] of trace(dir)) {
      // Never two writers: at most the steps after one checkpoint run again (5), not a second copy.
      expect(s.length, id).toBeLessThanOrEqual(20 + 5);
      expect(s.at(-1), id).toBe(20);
    }
  }, 90_000);

  test('`rm -rf runs/<name>` under a running runner is noticed: it stops with RUNNER_STORE_GONE', async () => {
    const dir = tempProject({ 'job.yaml': spec(4, 40) });
    const a = spawnCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    await waitFor(() => started(a.output()).length >= 1, 20_000, 'runner A to start');
    rmSync(join(dir, 'runs/zombie'), { recursive: true, force: true });
    const ra = await a.done;
    expect(ra.code, ra.stdout + ra.stderr).toBe(1);
    expect(ra.stdout + ra.stderr).toMatch(/store at .* was deleted while this runner was using it/);
    expect(ra.stdout).not.toMatch(/4\/4 completed/);
  }, 60_000);
});

describe('clocks', () => {
  test('a retry time far in the future (the wall clock jumped back) waits at most the backoff maximum', async () => {
    const { RunStore } = await import('../packages/core/src/store/lmdb-store.js');
    const { HOST } = await import('../packages/core/src/util/proc.js');
    const dir = tempProject({
      'job.yaml': `name: jump\nmatrix: { s: [a] }\nlease: { heartbeatMs: 100 }\nretries: { max: 3, backoff: { initialMs: 100, maxMs: 500 } }\nstages:\n  - { id: work, plugin: steps, options: { steps: 1, stepMs: 1 } }\n`,
    });
    expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(0);
    // As if the task had failed and the clock was an hour ahead when its retry was scheduled:
    // the store's own transitions, as a runner makes them (claim, then finish with a retry time).
    const store = RunStore.open(join(dir, 'runs/jump'));
    const id = 'work/s=a/cycle=1';
    await store.reset([id]);
    const owner = { id: `${HOST}:${process.pid}:clock`, pid: process.pid, host: HOST };
    await store.registerOwner({ ...owner, startedAt: Date.now(), heartbeatAt: Date.now(), leaseMs: 10_000, argv: [] });
    expect(await store.claim([id], owner)).toHaveLength(1);
    await store.finish(id, owner.id, { state: 'pending', runMs: 0, note: 'failed; retry', retryAt: Date.now() + 3_600_000, countFailure: true });
    await store.removeOwner(owner.id);
    expect(store.getTask(id)).toMatchObject({ state: 'pending', retryAt: expect.any(Number) });
    await store.close();
    const r = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('1/1 completed');
  }, 60_000);
});
