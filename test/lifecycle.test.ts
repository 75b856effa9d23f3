/**
 * How tasks live and end: signals, changed options, cancellation with a hard stop, timeouts,
 * child tasks on a small pool, process isolation and GPU slots.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, REPO, runCli, sleep, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';

const fixtures = join(REPO, 'test/fixtures');

describe('signals', () => {
  test('first SIGINT saves cancellation checkpoints and exits 130; the same command continues', async () => {
    const dir = tempProject({
      'job.yaml': `name: sig
matrix: { s: [a, b, c] }
pool: { threads: 2 }
stages:
  - { id: w, plugin: steps, options: { steps: 1000, stepMs: 5, checkpointEvery: 5000 } }
`,
    });
    const run = spawnCli(['start', 'job.yaml'], { cwd: dir });
    await waitFor(() => run.output().includes('start w/s=b'), 15_000, 'tasks to start');
    // Wait until both are really counting (progress reaches the store once a second).
    await waitFor(async () => (await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir })).filter((t) => t.progress.step > 0).length === 2, 20_000, 'progress');
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stdout).toContain('SIGINT: stopping; 2 running tasks will save a checkpoint');
    expect(r.stdout).toMatch(/Run the same command to continue: .*runner(\.js)? start job\.yaml/);
    const tasks = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    const interrupted = tasks.filter((t) => t.lastCheckpoint?.type === 'cancellation');
    expect(interrupted).toHaveLength(2);
    expect(interrupted.every((t) => t.state === 'pending' && t.notes.at(-1).includes('interrupted by SIGINT'))).toBe(true);
    const again = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('2 resumed from checkpoints');
    const done = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    for (const t of done.filter((x) => interrupted.some((i) => i.id === x.id))) {
      expect(t.result.resumedFrom).toBeGreaterThan(0);
      expect(t.result.executed + t.result.resumedFrom).toBe(1000);
    }
  }, 180_000);

  test('a second SIGINT exits at once; the next start resets the stale tasks', async () => {
    const dir = tempProject({
      'job.yaml': `name: sig2
stages:
  - { id: w, plugin: steps, options: { steps: 100, stepMs: 20, ignoreCancel: true, gateFile: gate, gateStep: 5 } }
`,
    });
    // The task holds at step 5 (ignoring the first SIGINT) until the gate opens: the second
    // SIGINT always finds it running.
    const run = spawnCli(['start', 'job.yaml', '--verbose'], { cwd: dir });
    await waitFor(() => run.output().includes('waiting at step 5 for gate'), 30_000, 'the task to reach its gate');
    await waitFor(async () => (await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir }))[0].progress.step > 0, 20_000, 'progress');
    run.child.kill('SIGINT');
    await waitFor(() => run.output().includes('again to exit at once'), 5_000, 'the first SIGINT');
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stdout).toContain('SIGINT again: exiting now');
    writeFileSync(join(dir, 'gate'), '');
    const again = await runCli(['start', 'job.yaml', '--set', 'stages.w.options.stepMs=0'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('1 task was left running by a runner that is gone; reset to pending: w/cycle=1');
  }, 180_000);
});

describe('changed options', () => {
  const SPEC = (steps: number, seed: number) => `name: fp
matrix: { s: [a, b] }
stages:
  - { id: w, plugin: steps, options: { steps: ${steps}, seed: ${seed}, checkpointEvery: 10 } }
  - { id: x, plugin: steps, needs: [w], options: { steps: 3 } }
`;

  test('changing an option reruns the task and everything downstream, and says so', async () => {
    const dir = tempProject({ 'job.yaml': SPEC(30, 1) });
    expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(0);
    const before = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    const r = await runCli(['start', 'job.yaml', '--set', 'stages.w.options.seed=2'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('note w/s=a/cycle=1 reruns: its options changed');
    expect(r.stdout).toContain('note x/s=a/cycle=1 reruns: upstream w/s=a/cycle=1 reruns');
    const after = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(after.find((t) => t.id === 'w/s=a/cycle=1').result.value).not.toBe(before.find((t) => t.id === 'w/s=a/cycle=1').result.value);
    expect(after.find((t) => t.id === 'w/s=a/cycle=1').result.resumedFrom).toBe(0);
    // Same options again: nothing reruns.
    const same = await runCli(['start', 'job.yaml', '--set', 'stages.w.options.seed=2'], { cwd: dir });
    expect(same.stdout).not.toContain('reruns');
    expect(same.stdout).toContain('4 tasks (4 completed, 0 to run)');
  }, 180_000);

  test('raising a resume-safe target continues from the last checkpoint', async () => {
    const dir = tempProject({ 'job.yaml': SPEC(30, 1) });
    expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(0);
    const r = await runCli(['start', 'job.yaml', '--set', 'stages.w.options.steps=50'], { cwd: dir });
    expect(r.stdout).toContain('w/s=a/cycle=1 reruns: a resume-safe target changed; it resumes from its last checkpoint');
    const t = (await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir })).find((x) => x.id === 'w/s=a/cycle=1');
    expect(t.result).toMatchObject({ steps: 50, resumedFrom: 20, executed: 30 });
    const fresh = tempProject({ 'job.yaml': SPEC(50, 1) });
    await runCli(['start', 'job.yaml'], { cwd: fresh });
    const f = (await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: fresh })).find((x) => x.id === 'w/s=a/cycle=1');
    expect(t.result.value).toBe(f.result.value);
  }, 180_000);

  test('a checkpoint saved under other options is not loaded; the task starts fresh and the runner says why', async () => {
    const dir = tempProject({ 'job.yaml': SPEC(40, 1).replace('checkpointEvery: 10', 'checkpointEvery: 10, failAtStep: 25') });
    expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(1);
    await runCli(['resume', 'job.yaml', 'w'], { cwd: dir });
    const r = await runCli(['start', 'job.yaml', '--set', 'stages.w.options.seed=9', '-v'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/options changed for w\/s=a\/cycle=1, w\/s=b\/cycle=1; their checkpoints no longer apply/);
    expect(r.stdout).toContain('was saved under other options; not loading it');
    const t = (await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir })).find((x) => x.id === 'w/s=a/cycle=1');
    expect(t.result).toMatchObject({ resumedFrom: 0, executed: 40 });
  }, 180_000);
});

describe('cancellation, timeouts, children, isolation', () => {
  test('a plugin that ignores cancellation is stopped after the grace period', async () => {
    const dir = tempProject({
      'job.yaml': `name: hard
cancel: { graceMs: 300 }
lease: { heartbeatMs: 100 }
stages:
  - { id: w, plugin: steps, options: { steps: 1000, stepMs: 10, ignoreCancel: true, gateFile: gate, gateStep: 3 } }
`,
    });
    // It holds at a gate that never opens, ignoring the cancel: only the hard stop ends it.
    const run = spawnCli(['start', 'job.yaml', '--verbose'], { cwd: dir });
    await waitFor(() => run.output().includes('waiting at step 3 for gate'), 30_000, 'the task to reach its gate');
    const c = await runCli(['cancel', 'job.yaml', 'w'], { cwd: dir });
    expect(c.stdout).toContain('cancelled w/cycle=1');
    const r = await run.done;
    expect(r.stdout).toContain('w/cycle=1 did not stop within 300 ms; terminating it');
    const [t] = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(t.state).toBe('cancelled');
  }, 180_000);

  test('a stage timeout cancels the task and counts as a failure (retried if allowed)', async () => {
    const dir = tempProject({
      'job.yaml': `name: to
cancel: { graceMs: 2000 }
stages:
  - { id: w, plugin: steps, timeoutMs: 300, retries: { max: 1, backoff: { initialMs: 10 } }, options: { steps: 1000, stepMs: 5, checkpointEvery: 10, traceFile: trace.log } }
`,
    });
    const r = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('w/cycle=1: timed out after 300 ms');
    const [t] = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(t).toMatchObject({ state: 'failed', attempts: 2, error: { code: 'RUNNER_TASK_TIMEOUT' } });
    expect(t.lastCheckpoint.type).toBe('cancellation');
    // The cancellation checkpoint holds every step done (how many fit in 300 ms depends on the load).
    const done = Math.max(...readFileSync(join(dir, 'trace.log'), 'utf8').split('\n').filter(Boolean).map((l) => Number(l.slice(l.lastIndexOf(' ') + 1))));
    expect(t.lastCheckpoint.step).toBeGreaterThan(0);
    expect(t.lastCheckpoint.step).toBe(done);
  }, 180_000);

  test('parents waiting for children lend their slot: two parents with parallel 2 on one thread finish', async () => {
    const dir = tempProject({
      'job.yaml': `name: kids
matrix: { s: [a, b] }
pool: { threads: 1 }
plugins: [${join(fixtures, 'parent.mjs')}]
stages:
  - { id: work, plugin: steps, options: { steps: 20, stepMs: 2 } }
  - { id: hpo, plugin: parent, options: { n: 5, parallel: 2 } }
`,
    });
    const r = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const all = await cliJson<any[]>(['tasks', 'job.yaml', '--children'], { cwd: dir });
    const hpo = all.filter((t) => t.stage === 'hpo' && !t.parent);
    expect(hpo.map((t) => t.state)).toEqual(['completed', 'completed']);
    const kids = all.filter((t) => t.parent);
    expect(kids).toHaveLength(10);
    expect(kids.every((k) => k.state === 'completed' && k.id.startsWith(k.parent + '/trial='))).toBe(true);
    expect(hpo[0].result.values).toEqual(kids.filter((k) => k.parent === hpo[0].id).sort((x, y) => x.id.localeCompare(y.id)).map((k) => k.result.value));
    // Rerunning returns stored child results without running them again.
    const again = await runCli(['start', 'job.yaml', '--set', 'stages.hpo.options.n=6'], { cwd: dir });
    expect(again.code).toBe(0);
    const after = await cliJson<any[]>(['tasks', 'job.yaml', '--children'], { cwd: dir });
    const k0 = after.find((t) => t.id === 'hpo/s=a/cycle=1/trial=0');
    expect(k0.attempts).toBe(1);
    expect(after.filter((t) => t.parent === 'hpo/s=a/cycle=1')).toHaveLength(6);
  }, 180_000);

  test('isolation: process runs each task in its own process, with its GPU assigned', async () => {
    const dir = tempProject({
      'job.yaml': `name: iso
matrix: { s: [a, b, c] }
pool: { threads: 2 }
plugins: [${join(fixtures, 'whoami.mjs')}]
stages:
  - { id: w, plugin: whoami, resources: { gpu: 1 } }
`,
    });
    const r = await runCli(['start', 'job.yaml', '--gpus', '2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const tasks = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    const pids = new Set(tasks.map((t) => t.result.pid));
    expect(pids.size).toBe(3);
    expect(tasks.every((t) => t.result.mainThread === true)).toBe(true);
    expect(tasks.every((t) => ['0', '1'].includes(t.result.gpu))).toBe(true);
  }, 180_000);
});
