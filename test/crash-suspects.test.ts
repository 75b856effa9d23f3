/**
 * A task that brings the runner process down (a native crash under thread isolation) must not
 * take the run with it forever: after two runner deaths it runs in its own process, fails there
 * per `retries`, and the innocent task beside it completes.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, REPO, runCli, tempProject } from '@runner/test-helpers/cli';

const plugin = join(REPO, 'test/fixtures/kills-runner.mjs');

describe('a task that kills its runner', () => {
  test('is quarantined after two deaths, fails in its own process per retries, and the other task completes', async () => {
    const dir = tempProject({
      'job.yaml': `name: suspects
plugins: [${JSON.stringify(plugin)}]
matrix: { s: [bad, good] }
pool: { threads: 2 }
stages:
  - id: work
    plugin: kills-runner
    retries: { max: 1, backoff: { initialMs: 10 } }
`,
    });
    for (let death = 1; death <= 2; death++) {
      const r = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
      expect(r.signal, `start ${death}: ${r.stdout}${r.stderr}`).toBe('SIGKILL');
    }
    const third = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    expect(third.code, third.stdout + third.stderr).toBe(1);
    expect(third.stdout).toMatch(/work\/s=bad\/cycle=1 is quarantined: it was running at each of the last 2 runner deaths without saving a checkpoint \(together with work\/s=good\/cycle=1\)/);

    const tasks = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    const bad = tasks.find((t) => t.id === 'work/s=bad/cycle=1');
    const good = tasks.find((t) => t.id === 'work/s=good/cycle=1');
    expect(good.state).toBe('completed');
    // The innocent task ran in its own process too: a quarantine changes where, not what.
    expect(good.result.pid).not.toBe(undefined);
    expect(bad.state).toBe('failed');
    const codes = [bad.error.code, bad.error.cause?.code];
    expect(codes).toContain('RUNNER_TASK_CRASHED');
    expect(JSON.stringify(bad.error)).toContain('isolation: process');
    expect(JSON.stringify(bad.error)).toMatch(/was killed by SIGKILL while it ran in quarantine/);
    // Two deaths, then retries.max + 1 attempts in its own process: never more.
    expect(bad.attempts).toBe(2 + 1 + 1);
    expect(bad.failures).toBe(2);

    const again = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    expect(again.code).toBe(1);
    expect((await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir })).find((t) => t.id === 'work/s=bad/cycle=1').attempts).toBe(4);
  }, 300_000);
});
