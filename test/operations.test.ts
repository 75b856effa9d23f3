/**
 * The operations commands a user drives a long run with: status, tasks, cancel, resume,
 * checkpoints, reset, plugins, validate — and their machine-readable shapes.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliError, cliJson, runCli, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';
import { specFixture } from '@runner/test-helpers/fixtures';

const DEMO = `${specFixture('demo.yaml')}lease: { heartbeatMs: 100 }\n`;

describe('operations commands', () => {
  test('validate, then status/tasks before and after a run, with stable JSON shapes', async () => {
    const dir = tempProject({ 'configs/demo.yaml': DEMO });
    const v = await runCli(['validate', 'configs/demo.yaml'], { cwd: dir });
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('ok configs/demo.yaml: demo, 8 tasks');
    const before = await cliJson(['status', 'configs/demo.yaml'], { cwd: dir });
    expect(before).toMatchObject({ name: 'demo', started: false, tasks: { total: 8, pending: 8, running: 0, completed: 0, failed: 0, cancelled: 0 } });
    const r = await runCli(['start', 'configs/demo.yaml', '--set', 'stages.work.options.stepMs=0'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const after = await cliJson(['status', 'configs/demo.yaml'], { cwd: dir });
    expect(after).toMatchObject({ name: 'demo', started: true, runners: [], tasks: { total: 8, completed: 8 }, progress: 1 });
    expect(after.stages.work).toEqual({ total: 4, pending: 0, running: 0, completed: 4, failed: 0, cancelled: 0 });
    const tasks = await cliJson<any[]>(['tasks', 'configs/demo.yaml'], { cwd: dir });
    expect(tasks).toHaveLength(8);
    expect(tasks[0]).toMatchObject({
      id: 'work/symbol=AAPL/horizon=1/cycle=2',
      stage: 'work',
      cell: { symbol: 'AAPL', horizon: 1 },
      cycle: 2,
      state: 'completed',
      attempts: 1,
      progress: { step: 200, total: 200, fraction: 1 },
      result: { steps: 200, executed: 200 },
    });
    const failedOnly = await cliJson<any[]>(['tasks', 'configs/demo.yaml', '--state', 'failed'], { cwd: dir });
    expect(failedOnly).toEqual([]);
    const text = await runCli(['tasks', 'configs/demo.yaml', 'after/*MSFT*'], { cwd: dir });
    expect(text.stdout.split('\n').filter((l) => l.startsWith('after/'))).toHaveLength(2);
    expect(existsSync(join(dir, 'runs/demo/events.jsonl'))).toBe(true);
  });

  test('cancel a running task cooperatively (cancellation checkpoint), then resume it from there', async () => {
    const dir = tempProject({ 'job.yaml': DEMO });
    // The task waits before step 50 until a gate file exists, so the cancel always finds it
    // running, however slow the machine (the gate is opened only for the resume).
    mkdirSync(join(dir, 'gates'));
    for (const s of ['AAPL', 'MSFT']) for (const h of [1, 5]) for (const cy of [1, 2]) writeFileSync(join(dir, 'gates', `work_symbol_${s}_horizon_${h}_cycle_${cy}`), '');
    const gate = join(dir, 'gates', 'work_symbol_AAPL_horizon_1_cycle_2');
    rmSync(gate);
    const run = spawnCli(['start', 'job.yaml', '--plain', '--verbose', '--set', `stages.work.options.gateFile=${join(dir, 'gates', '{task}')}`, '--set', 'stages.work.options.gateStep=50'], { cwd: dir });
    await waitFor(() => run.output().includes('work/symbol=AAPL/horizon=1/cycle=2 waiting at step 50'), 60_000, 'the task to reach its gate');
    const c = await runCli(['cancel', 'job.yaml', 'work/*AAPL*horizon=1*'], { cwd: dir });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/cancelled work\/symbol=AAPL\/horizon=1\/cycle=2 \(checkpoint at step \d+\)/);
    expect(c.stdout).toContain("resume later with: runner resume job.yaml 'work/*AAPL*horizon=1*'");
    const res = await run.done;
    expect(res.code).toBe(1); // not everything completed
    expect(res.stdout).toContain('1 cancelled');
    expect(res.stdout).toContain('1 blocked by failed or cancelled work');
    const [t] = await cliJson<any[]>(['tasks', 'job.yaml', 'work/symbol=AAPL/horizon=1/cycle=2'], { cwd: dir });
    expect(t.state).toBe('cancelled');
    expect(t.lastCheckpoint.type).toBe('cancellation');
    const step = t.lastCheckpoint.step;
    expect(step).toBeGreaterThan(0);
    expect(step).toBeLessThan(200);

    const bad = await runCli(['resume', 'job.yaml', 'after/symbol=MSFT/horizon=1/cycle=2'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('nothing to resume: after/symbol=MSFT/horizon=1/cycle=2 is completed');
    const unknown = await runCli(['resume', 'job.yaml', 'nope/*'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(cliError(unknown)).toMatchObject({ code: 'RUNNER_TASK_NOT_FOUND', message: expect.stringContaining('no task matches "nope/*"') });

    writeFileSync(gate, '');
    const ok = await runCli(['resume', 'job.yaml', 'work/*AAPL*horizon=1*'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`resumed work/symbol=AAPL/horizon=1/cycle=2 ← cancellation checkpoint at step ${step}/200`);
    const again = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(again.code).toBe(0);
    const [done] = await cliJson<any[]>(['tasks', 'job.yaml', 'work/symbol=AAPL/horizon=1/cycle=2'], { cwd: dir });
    expect(done.result).toMatchObject({ resumedFrom: step, executed: 200 - step });
  }, 240_000);

  test('a live runner picks up `runner resume` without a restart, and reset refuses while it runs', async () => {
    const dir = tempProject({
      'job.yaml': `name: live
pool: { threads: 2 }
lease: { heartbeatMs: 100 }
stages:
  - { id: a, plugin: steps, options: { steps: 5, failAtStep: 3, failTimes: 1 } }
  - { id: slow, plugin: steps, options: { steps: 400, stepMs: 10 } }
`,
    });
    const first = await runCli(['start', 'job.yaml', '--only', 'a'], { cwd: dir });
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('failed a/cycle=1');
    const run = spawnCli(['start', 'job.yaml'], { cwd: dir });
    await waitFor(() => run.output().includes('start slow'), 15_000, 'slow to start');
    const resumed = await runCli(['resume', 'job.yaml', 'a'], { cwd: dir });
    expect(resumed.stdout).toContain('resumed a/cycle=1 ← failure checkpoint at step 2/5');
    expect(resumed.stdout).toContain('a live runner picks them up');
    await waitFor(() => run.output().includes('done  a/cycle=1'), 15_000, 'the live runner to run a');
    const res = await runCli(['reset', 'job.yaml', '--stage', 'a', '--force'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(cliError(res)).toMatchObject({ code: 'RUNNER_RUN_LOCKED', message: expect.stringMatching(/^runner pid \d+ on .* is working on live/) });
    run.child.kill('SIGINT');
    const end = await run.done;
    expect(end.code).toBe(130);
    const tasks = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(tasks.map((t) => t.state)).toEqual(['completed', 'pending']);
    expect(tasks[1].lastCheckpoint.type).toBe('cancellation');
  }, 180_000);

  test('checkpoints: list, show, stats, delete and prune (with orphans)', async () => {
    const dir = tempProject({
      'job.yaml': `name: ck
checkpoints: { inlineMaxBytes: 0, keep: 3 }
matrix: { s: [a, b] }
stages:
  - { id: w, plugin: steps, options: { steps: 50, checkpointEvery: 10, failAtStep: 45, failTimes: 9 } }
`,
      'orphan.txt': '',
    });
    expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(1);
    const list = await cliJson<any[]>(['checkpoints', 'job.yaml'], { cwd: dir });
    expect(list.map((c) => `${c.task}#${c.seq}:${c.type}@${c.step}`)).toEqual([
      'w/s=a/cycle=1#5:failure@44',
      'w/s=a/cycle=1#4:periodic@40',
      'w/s=a/cycle=1#3:periodic@30',
      'w/s=b/cycle=1#5:failure@44',
      'w/s=b/cycle=1#4:periodic@40',
      'w/s=b/cycle=1#3:periodic@30',
    ].sort());
    const show = await runCli(['checkpoints', 'job.yaml', 'show', 'w/s=a/cycle=1'], { cwd: dir });
    expect(show.stdout).toContain('#5 failure (newest: resumes from here)');
    expect(show.stdout).toContain("to resume: runner resume job.yaml 'w/s=a/cycle=1'");
    const ckdir = join(dir, 'runs/ck/artifacts/w/s=a/cycle=1/.checkpoints');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(ckdir, '000099-a1-periodic.ckpt'), 'left behind by a crash');
    writeFileSync(join(ckdir, '.000100.ckpt.123.abcd.tmp'), 'half written');
    const stats = await cliJson(['checkpoints', 'job.yaml', 'stats'], { cwd: dir });
    expect(stats).toMatchObject({ total: 6, tasks: 2, byType: { failure: 2, periodic: 4 }, orphanFiles: 2 });
    const del = await runCli(['checkpoints', 'job.yaml', 'delete', 'w/s=b/cycle=1'], { cwd: dir });
    expect(del.code).toBe(2);
    expect(del.stderr).toContain('Pass --force');
    const delf = await runCli(['checkpoints', 'job.yaml', 'delete', 'w/s=b/cycle=1', '--force'], { cwd: dir });
    expect(delf.stdout).toContain('deleted 3 checkpoints of 1 task');
    const dry = await cliJson(['checkpoints', 'job.yaml', 'prune', '--keep', '1', '--dry-run'], { cwd: dir });
    expect(dry).toMatchObject({ checkpoints: 2, orphanFiles: 2, dryRun: true });
    const pr = await runCli(['checkpoints', 'job.yaml', 'prune', '--older-than', '0s'], { cwd: dir });
    expect(pr.stdout).toContain('removed 2 checkpoints');
    expect(readdirSync(ckdir)).toHaveLength(1); // the unfinished task keeps its newest
    const bad = await runCli(['checkpoints', 'job.yaml', 'prune', '--older-than', 'soon'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--older-than: cannot read "soon"');
  }, 180_000);

  test('reset --stage clears that stage and everything downstream, --backup keeps a copy', async () => {
    const dir = tempProject({ 'job.yaml': DEMO.replace('stepMs: 5', 'stepMs: 0') });
    expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(0);
    const noForce = await runCli(['reset', 'job.yaml'], { cwd: dir });
    expect(noForce.code).toBe(2);
    expect(noForce.stderr).toContain('Pass --force to reset without asking, or --backup');
    const r = await runCli(['reset', 'job.yaml', '--stage', 'after', '--backup'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('reset 4 tasks of demo (stages after and downstream)');
    const backups = readdirSync(join(dir, 'runs/demo/backups'));
    expect(backups).toHaveLength(1);
    expect(existsSync(join(dir, 'runs/demo/backups', backups[0]!, 'store.mdb'))).toBe(true);
    const status = await cliJson(['status', 'job.yaml'], { cwd: dir });
    expect(status.tasks).toMatchObject({ completed: 4, pending: 4 });
    const all = await runCli(['reset', 'job.yaml', '--stage', 'work', '--force'], { cwd: dir });
    expect(all.stdout).toContain('reset 8 tasks');
    const bad = await runCli(['reset', 'job.yaml', '--stage', 'nope', '--force'], { cwd: dir });
    expect(bad.stderr).toContain('--stage nope: no such stage');
  }, 180_000);

  test('--only runs the matching tasks and exits 0 when they completed; status shows an ETA', async () => {
    const dir = tempProject({ 'job.yaml': DEMO.replace('stepMs: 5', 'stepMs: 1') });
    const r = await runCli(['start', 'job.yaml', '--only', 'work/*AAPL*'], { cwd: dir });
    expect(r.code, r.stdout).toBe(0);
    const status = await cliJson(['status', 'job.yaml'], { cwd: dir });
    expect(status.tasks).toMatchObject({ completed: 2, pending: 6 });
    expect(status.eta.seconds).toBeGreaterThan(0);
  });

  test('plugins lists the built-ins with their options', async () => {
    const list = await cliJson<any[]>(['plugins']);
    const steps = list.find((p) => p.name === 'steps');
    expect(steps.options.find((o: any) => o.name === 'steps')).toMatchObject({ type: 'integer', default: 100, resumeSafe: true });
  });

  test('--help on every command', async () => {
    const cmds = ['validate', 'start', 'plan', 'status', 'tasks', 'cancel', 'resume', 'checkpoints', 'reset', 'report', 'serve', 'plugins', 'schema', 'study', 'data'];
    // Concurrently: each is a process start, mostly waiting on a busy machine.
    const results = await Promise.all(cmds.map((cmd) => runCli([cmd, '--help'])));
    for (const [i, cmd] of cmds.entries()) {
      expect(results[i]!.code, cmd).toBe(0);
      expect(results[i]!.stdout, cmd).toContain(`runner ${cmd}`);
    }
    const none = await runCli([]);
    expect(none.code).toBe(2);
  });
});
