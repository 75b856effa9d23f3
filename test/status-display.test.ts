/**
 * What status and tasks say: a run whose runner was killed is "interrupted (runner gone)", not
 * running; tasks shows duration, the headline metric and notes, and sorts numbers as numbers;
 * a directory given as the spec is bad input (exit 2) with a hint.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, REPO, runCli, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';

const fixtures = join(REPO, 'test/fixtures');

describe('status and tasks tell the truth', () => {
  test('after kill -9: interrupted (runner gone), resumes on the next start', async () => {
    const dir = tempProject({
      'job.yaml': `name: k
plugins: [${join(fixtures, 'ticker.mjs')}]
matrix: { n: [1, 2] }
pool: { threads: 2 }
stages:
  - { id: w, plugin: ticker, options: { steps: 100000, stepMs: 10 } }
`,
    });
    const run = spawnCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    await waitFor(async () => (await cliJson(['status', 'job.yaml'], { cwd: dir })).tasks.running === 2, 30_000, 'two running tasks');
    run.child.kill('SIGKILL');
    await run.done;
    const s = await runCli(['status', 'job.yaml'], { cwd: dir });
    expect(s.stdout).toContain('interrupted (runner gone); 2 tasks left running resume on the next start:');
    expect(s.stdout).toMatch(/2 tasks: 0 completed, 2 interrupted, 0 pending/);
    expect(s.stdout).not.toContain('no runner is working on it now');
    expect(s.stdout).not.toMatch(/^ETA/m);
  });

  test('tasks: duration, headline metric, notes of completed tasks, numbers sorted as numbers', async () => {
    const dir = tempProject({
      'job.yaml': `name: t
plugins: [${join(fixtures, 'parent.mjs')}, ${join(fixtures, 'ticker.mjs')}]
pool: { threads: 2 }
stages:
  - { id: work, plugin: steps, options: { steps: 3 } }
  - { id: hpo, plugin: parent, options: { n: 12, parallel: 2 } }
  - { id: fit, plugin: ticker, options: { steps: 3, stepMs: 1 } }
`,
    });
    expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(0);
    // Raising the target reopens work, with a note that stays after it completes.
    expect((await runCli(['start', 'job.yaml', '--set', 'stages.fit.options.steps=5'], { cwd: dir })).code).toBe(0);
    const r = await runCli(['tasks', 'job.yaml', '--children'], { cwd: dir });
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^task +state +progress +duration +metric +last checkpoint +attempts +note$/);
    const fit = lines.find((l) => l.startsWith('fit/cycle=1'))!;
    expect(fit).toMatch(/completed +100% +\d+(ms|\.\d+s) +val_loss=0\.2 +step 5 .*reopened: a resume-safe target changed/);
    const kids = lines.filter((l) => l.startsWith('hpo/cycle=1/trial=')).map((l) => l.split(/\s+/)[0]);
    expect(kids).toEqual(Array.from({ length: 12 }, (_, i) => `hpo/cycle=1/trial=${i}`));
  });

  test('the live display counts a pending task cancelled by another process as cancelled (⏸), and its run ends', async () => {
    const dir = tempProject({
      'job.yaml': `name: c
plugins: [${join(fixtures, 'ticker.mjs')}]
matrix: { n: [1, 2, 3] }
pool: { threads: 1 }
stages:
  - { id: w, plugin: ticker, options: { steps: 150, stepMs: 20 } }
`,
    });
    const run = spawnCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    await waitFor(() => run.output().includes('start w/n=1/cycle=1'), 30_000, 'the first task to start');
    const c = await runCli(['cancel', 'job.yaml', 'w/n=3/cycle=1'], { cwd: dir });
    expect(c.code, c.stderr).toBe(0);
    const r = await run.done;
    expect(r.stdout).toContain('cancelled w/n=3/cycle=1: cancelled by another process');
    expect(r.stdout).toMatch(/c: 2\/3 completed, 1 cancelled in /);
    expect(r.stdout).not.toContain('start w/n=3/cycle=1');
  });

  test('a directory as the spec: exit 2 with a hint naming the spec files there', async () => {
    const dir = tempProject({ 'job.yaml': 'name: x\nstages: []\n' });
    const r = await runCli(['start', '.'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a directory, not a YAML file');
    expect(r.stderr).toMatch(/hint: Name the spec file, e\.g\. `runner start .*job\.yaml` \(found: job\.yaml\)/);
  });
});
