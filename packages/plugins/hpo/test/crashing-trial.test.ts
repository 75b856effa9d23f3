/**
 * A trial whose training brings the whole runner down, every time (a native crash under thread
 * isolation), must not loop forever, and must not take the study with it: the runner quarantines
 * its child task after two deaths, the child then fails in its own process, the trial is marked
 * FAIL with that error, and the study finishes with other trials.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, runCli, tempProject } from '@runner/test-helpers/cli';
import { spec } from './helpers.js';

const SPACE = { x: { float: [-1, 1] }, y: { float: [-1, 1] }, act: { choice: ['relu', 'tanh'] } };

describe('a trial that crashes the runner every time', () => {
  test('is quarantined, fails in its own process, and the study completes without it', async () => {
    const dir = tempProject({});
    writeFileSync(join(dir, 'job.yaml'), spec({ hpo: { trials: 3, parallel: 1, sampler: { type: 'random', seed: 4 }, space: SPACE }, train: { epochs: 2, crashTrial: 'trial=1' } }));
    for (let death = 1; death <= 2; death++) {
      const r = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
      expect(r.signal, `start ${death}: ${r.stdout}${r.stderr}`).toBe('SIGKILL');
    }
    const last = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    expect(last.code, last.stdout + last.stderr).toBe(0);
    expect(last.stdout).toMatch(/hpo\/symbol=A\/cycle=1\/trial=1 is quarantined/);

    const study = (await cliJson<any>(['study', 'job.yaml', 'hpo/symbol=A/cycle=1', '--format', 'json'], { cwd: dir })).studies[0];
    const states = study.trials.map((t: any) => t.state);
    expect(states).toEqual(['COMPLETE', 'FAIL', 'COMPLETE', 'COMPLETE']);
    const t1 = study.trials[1];
    expect(t1.error).toMatch(/RUNNER_TASK_CRASHED|was killed by SIGKILL while it ran in quarantine/);
    const status = await cliJson<any>(['status', 'job.yaml'], { cwd: dir });
    expect(status.children).toMatchObject({ total: 4, completed: 3, failed: 1, pending: 0, running: 0 });
    const [child] = await cliJson<any[]>(['tasks', 'job.yaml', 'hpo/symbol=A/cycle=1/trial=1', '--children'], { cwd: dir });
    expect(child).toMatchObject({ state: 'failed', attempts: 3, error: { code: 'RUNNER_TASK_CRASHED' } });
    expect(child.error.hint).toContain('isolation: process');
  }, 300_000);
});
