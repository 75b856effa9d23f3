import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';

function spec(n: number, stepMs: number, gate = ''): string {
  const symbols = Array.from({ length: n }, (_, i) => `S${i}`).join(', ');
  return `name: conc
matrix: { symbol: [${symbols}] }
pool: { threads: 2 }
lease: { heartbeatMs: 100 }
stages:
  - id: work
    plugin: steps
    options: { steps: 20, stepMs: ${stepMs}, checkpointEvery: 5, traceFile: trace.log${gate} }
`;
}

function traceCounts(dir: string): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const line of readFileSync(join(dir, 'trace.log'), 'utf8').split('\n')) {
    if (!line) continue;
    const i = line.lastIndexOf(' ');
    const id = line.slice(0, i);
    const l = m.get(id) ?? [];
    l.push(Number(line.slice(i + 1)));
    m.set(id, l);
  }
  return m;
}

describe('concurrent runners', () => {
  test('two `runner start` on one config share the work and never run a task twice', async () => {
    // The first tasks wait at step 1 until both runners have claimed some: however slow B is to
    // start, A cannot finish everything alone.
    const dir = tempProject({ 'job.yaml': spec(16, 5, ', gateFile: gate, gateStep: 1') });
    const a = spawnCli(['start', 'job.yaml'], { cwd: dir });
    const b = spawnCli(['start', 'job.yaml'], { cwd: dir });
    await waitFor(() => a.output().includes('start work') && b.output().includes('start work'), 60_000, 'both runners to start tasks');
    writeFileSync(join(dir, 'gate'), '');
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const steps = traceCounts(dir);
    expect(steps.size).toBe(16);
    for (const [id, s] of steps) expect(s, id).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const tasks = await cliJson<{ id: string; state: string; attempts: number }[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(tasks.every((t) => t.state === 'completed' && t.attempts === 1)).toBe(true);
    // Both did some of the work.
    const doneBy = (out: string) => (out.match(/ done /g) ?? []).length;
    expect(doneBy(ra.stdout) + doneBy(rb.stdout)).toBe(16);
    expect(doneBy(ra.stdout)).toBeGreaterThan(0);
    expect(doneBy(rb.stdout)).toBeGreaterThan(0);
  }, 180_000);

  test('when one of two runners is killed, the other takes over its tasks without a restart', async () => {
    // Every task waits before step 10 until the gate file exists: A surely holds tasks when killed.
    const dir = tempProject({ 'job.yaml': spec(8, 25, ', gateFile: gate, gateStep: 10') });
    const a = spawnCli(['start', 'job.yaml'], { cwd: dir });
    await waitFor(() => a.output().includes('start work'), 60_000, 'runner A to start tasks');
    const b = spawnCli(['start', 'job.yaml'], { cwd: dir });
    await waitFor(() => b.output().includes('start work'), 60_000, 'runner B to start tasks');
    // Kill A while it holds a task (it always does until the work runs out), seen in the store.
    await waitFor(
      async () => (await cliJson<{ state: string; owner: { pid: number } | null }[]>(['tasks', 'job.yaml'], { cwd: dir })).some((t) => t.state === 'running' && t.owner?.pid === a.child.pid),
      60_000,
      'runner A to hold a task',
    );
    a.child.kill('SIGKILL');
    await a.done;
    writeFileSync(join(dir, 'gate'), '');
    const rb = await b.done;
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(rb.stdout).toMatch(/left running by a runner that is gone|attempt 2/);
    const tasks = await cliJson<{ id: string; state: string; attempts: number; result: { value: number } }[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(tasks.every((t) => t.state === 'completed')).toBe(true);
    expect(tasks.some((t) => t.attempts === 2)).toBe(true);
    expect(new Set(tasks.map((t) => t.result.value)).size).toBe(1);
  }, 180_000);
});
