/**
 * The product's promise: kill -9 the runner at any moment, run the same command again, and the
 * work completes exactly once with the results an uninterrupted run gives.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RunStore } from '../packages/core/src/store/lmdb-store.js';
import { cliJson, runCli, sleep, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';

const SYMBOLS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'];
const STEPS = 60;
const EVERY = 8;

function spec(): string {
  return `name: crash
matrix: { symbol: [${SYMBOLS.join(', ')}], horizon: [1, 5] }
pool: { threads: 2 }
lease: { heartbeatMs: 200 }
stages:
  - id: work
    plugin: steps
    options: { steps: ${STEPS}, stepMs: 6, checkpointEvery: ${EVERY}, traceFile: trace.log }
  - id: after
    plugin: steps
    needs: [work]
    options: { steps: 10, stepMs: 1, checkpointEvery: 5, traceFile: trace.log }
`;
}

interface TaskRow {
  id: string;
  state: string;
  attempts: number;
  result: { value: number; steps: number } | null;
}

async function results(dir: string): Promise<Map<string, TaskRow>> {
  const rows = await cliJson<TaskRow[]>(['tasks', 'job.yaml'], { cwd: dir });
  return new Map(rows.map((r) => [r.id, r]));
}

describe('crash safety', () => {
  test('SIGKILL at random moments, rerun until done: every task completes exactly once with the uninterrupted results', async () => {
    const clean = tempProject({ 'job.yaml': spec() });
    const base = await runCli(['start', 'job.yaml'], { cwd: clean });
    expect(base.code, base.stderr).toBe(0);
    const expected = await results(clean);
    expect(expected.size).toBe(40);

    const dir = tempProject({ 'job.yaml': spec() });
    let kills = 0;
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 40; round++) {
      const r = spawnCli(['start', 'job.yaml'], { cwd: dir });
      if (kills < 12) {
        // Wait until it is doing work, then kill it at a random moment.
        await waitFor(() => r.output().includes('tasks ('), 15_000, 'the runner to start');
        await sleep(50 + rand() * 450);
        r.child.kill('SIGKILL');
        const res = await r.done;
        if (res.code === 0) break; // it finished before the kill landed
        expect(res.signal).toBe('SIGKILL');
        kills++;
      } else {
        const res = await r.done;
        expect(res.code, res.stdout + res.stderr).toBe(0);
        break;
      }
    }
    expect(kills).toBeGreaterThanOrEqual(10);

    const got = await results(dir);
    for (const [id, row] of expected) {
      const g = got.get(id)!;
      expect(g.state, id).toBe('completed');
      expect(g.result?.value, id).toBe(row.result?.value);
    }

    // Executed steps per task ≤ steps + checkpointEvery × interruptions.
    const executed = new Map<string, number>();
    for (const line of readFileSync(join(dir, 'trace.log'), 'utf8').split('\n')) {
      if (!line) continue;
      const id = line.slice(0, line.lastIndexOf(' '));
      executed.set(id, (executed.get(id) ?? 0) + 1);
    }
    let redone = 0;
    for (const [id, row] of got) {
      const steps = id.startsWith('work/') ? STEPS : 10;
      const every = id.startsWith('work/') ? EVERY : 5;
      const n = executed.get(id) ?? 0;
      expect(n, id).toBeGreaterThanOrEqual(steps);
      expect(n, `${id} executed ${n} steps in ${row.attempts} attempts`).toBeLessThanOrEqual(steps + every * (row.attempts - 1));
      redone += n - steps;
    }
    // The kills really interrupted work in flight.
    expect([...got.values()].some((r) => r.attempts > 1)).toBe(true);

    // Completed exactly once, and the store opens cleanly.
    const store = RunStore.open(join(dir, 'runs', 'crash'));
    try {
      const completions = new Map<string, number>();
      for (const ev of store.eventsAfter(0)) if (ev.type === 'task:end' && ev.state === 'completed') completions.set(ev.task!, (completions.get(ev.task!) ?? 0) + 1);
      expect(completions.size).toBe(40);
      expect([...completions.values()].every((n) => n === 1)).toBe(true);
      expect(store.listOwners()).toEqual([]);
    } finally {
      await store.close();
    }
    const status = await cliJson(['status', 'job.yaml'], { cwd: dir });
    expect(status.tasks).toMatchObject({ total: 40, completed: 40, pending: 0, running: 0, failed: 0, cancelled: 0 });
    console.log(`crash test: ${kills} kills, ${redone} steps redone in total`);
  }, 180_000);
});
