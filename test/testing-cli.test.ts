/**
 * The kill -9 helpers `@runner/core/testing` exports for plugin authors (docs/plugins.md §7)
 * work as documented: start the CLI, wait for a line, SIGKILL it, run it again, read state back.
 */
import { describe, expect, test } from 'vitest';
import { runRunner, runnerJson, spawnRunner, tempProject } from '../packages/core/src/testing/index.js';

describe('spawnRunner / runRunner / runnerJson', () => {
  test('kill -9 mid-run, then the same command finishes the work', async () => {
    const dir = tempProject({
      'job.yaml': 'name: k\nmatrix: { x: [1, 2] }\nstages:\n  - { id: work, plugin: steps, per: [x], options: { steps: 400, stepMs: 5, checkpointEvery: 20 } }\n',
    });
    const r = spawnRunner(['start', 'job.yaml', '-v'], { cwd: dir });
    await r.waitForOutput(/checkpoint work\/x=\d\/cycle=1 #1/);
    const killed = await r.kill();
    expect(killed.signal).toBe('SIGKILL');
    await expect(r.waitForOutput('never printed')).rejects.toThrow(/exited before printing/);

    const again = await runRunner(['start', 'job.yaml'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    const tasks = await runnerJson<{ state: string; result: { resumedFrom: number } }[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(tasks.map((t) => t.state)).toEqual(['completed', 'completed']);
    expect(Math.max(...tasks.map((t) => t.result.resumedFrom))).toBeGreaterThan(0);
  }, 60_000);
});
