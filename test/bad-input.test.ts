/**
 * Bad input gets a clear error, and nothing is lost.
 */
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RunStore } from '../packages/core/src/store/lmdb-store.js';
import { cliError, cliJson, nobodyCanRunCli, REPO, runCli, tempProject } from '@runner/test-helpers/cli';
import { fixture } from '@runner/test-helpers/fixtures';

const fixtures = join(REPO, 'test/fixtures');

describe('bad input', () => {
  test('malformed YAML: exit 2 with file:line:col', async () => {
    const dir = tempProject({ 'job.yaml': 'name: x\nstages:\n  - id: a\n    plugin: steps\n    options: { steps: 3\n' });
    const r = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(cliError(r)).toMatchObject({ code: 'RUNNER_CONFIG_PARSE', message: expect.stringMatching(/^job\.yaml: the file is not valid YAML/) });
    expect(r.stderr).toMatch(/job\.yaml:\d+:\d+ /);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  test('schema errors: every one listed as file:line:col  path: message, with a hint', async () => {
    const dir = tempProject({ 'job.yaml': 'name: x\nstages:\n  - id: a\n    plugin: steps\n    options: { steps: -1, stepsMs: 3 }\n' });
    const r = await runCli(['validate', 'job.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('job.yaml:5:23  stages[0].options.steps: must be >= 0 (got -1)');
    expect(r.stderr).toContain('job.yaml:5:27  stages[0].options.stepsMs: unknown key "stepsMs"');
    expect(r.stderr).toContain('Did you mean "stepMs"?');
    expect(r.stderr).toContain('hint: Fix each problem listed above');
  });

  test('an unknown plugin is named with a suggestion', async () => {
    const dir = tempProject({ 'job.yaml': 'name: x\nstages:\n  - { id: a, plugin: step }\n' });
    const r = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('job.yaml:3:22  stages[0].plugin: no plugin named "step"');
    expect(r.stderr).toContain('Did you mean "steps"?');
  });

  test('a plugin module that does not load or has the wrong shape is reported', async () => {
    const dir = tempProject({
      'job.yaml': 'name: x\nplugins: [./bad.mjs]\nstages:\n  - { id: a, plugin: steps }\n',
      'bad.mjs': 'export default { name: "bad", run: 3 };\n',
    });
    const r = await runCli(['validate', 'job.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/job\.yaml:2:11\s+plugins\[0\]: plugin .*bad\.mjs: `version` must be semver.*`run\(ctx\)` must be a function/);
  });

  test('a plugin that throws: wrapped with plugin and task, retried with backoff, then failed with exit 1', async () => {
    const dir = tempProject({
      'job.yaml': `name: x
plugins: [${join(fixtures, 'throws.mjs')}]
stages:
  - { id: a, plugin: throws, retries: { max: 2, backoff: { initialMs: 50 } } }
  - { id: b, plugin: throws, options: { mode: nonretryable }, retries: { max: 5 } }
  - { id: c, plugin: steps, needs: [a] }
`,
    });
    const r = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('retry a/cycle=1: failed ([throws] a/cycle=1: database connection refused); retry 1 of 2 in 50ms');
    expect(r.stdout).toContain('retry 2 of 2 in 100ms');
    expect(r.stdout).toContain('failed a/cycle=1');
    expect(r.stdout).toContain('failed b/cycle=1');
    expect(r.stdout).toContain('1 blocked by failed or cancelled work');
    const tasks = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    const a = tasks.find((t) => t.id === 'a/cycle=1');
    expect(a).toMatchObject({ state: 'failed', attempts: 3, failures: 3, error: { code: 'RUNNER_PLUGIN_FAILED', message: '[throws] a/cycle=1: database connection refused' } });
    const b = tasks.find((t) => t.id === 'b/cycle=1');
    expect(b).toMatchObject({ state: 'failed', attempts: 1 });
    expect(b.notes.at(-1)).toContain('failed (not retryable)');
    expect(tasks.find((t) => t.id === 'c/cycle=1').state).toBe('pending');
  });

  test('a worker that dies is a failure of that task only', async () => {
    const dir = tempProject({
      'job.yaml': `name: x
plugins: [${join(fixtures, 'throws.mjs')}]
stages:
  - { id: a, plugin: throws, options: { mode: crash-thread } }
  - { id: b, plugin: steps, options: { steps: 3 } }
`,
    });
    const r = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    const tasks = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(tasks.find((t) => t.id === 'a/cycle=1')).toMatchObject({ state: 'failed' });
    expect(tasks.find((t) => t.id === 'b/cycle=1')).toMatchObject({ state: 'completed' });
  });

  test('a corrupt checkpoint falls back to the previous one with a warning; a missing file too', async () => {
    const dir = tempProject({
      'job.yaml': `name: x
checkpoints: { inlineMaxBytes: 0, keep: 3 }
stages:
  - { id: a, plugin: steps, options: { steps: 40, checkpointEvery: 10, failAtStep: 35, failTimes: 1 } }
`,
    });
    const first = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(first.code).toBe(1);
    const ckdir = join(dir, 'runs/x/artifacts/a/cycle=1/.checkpoints');
    const files = readdirSync(ckdir).sort();
    expect(files.map((f) => f.replace(/-a\d+-/, '-'))).toEqual(['000002-periodic.ckpt', '000003-periodic.ckpt', '000004-failure.ckpt']);
    // Flip a byte in the newest (failure, step 34) checkpoint and delete the one before it.
    const newest = join(ckdir, files[2]!);
    const bytes = readFileSync(newest);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(newest, bytes);
    rmSync(join(ckdir, files[1]!));
    await runCli(['resume', 'job.yaml', 'a'], { cwd: dir });
    const second = await runCli(['start', 'job.yaml', '-v'], { cwd: dir });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toMatch(/checkpoint #4 of a\/cycle=1 is unusable: checksum mismatch; trying an older checkpoint/);
    expect(second.stdout).toMatch(/artifact file .*000003.* is missing.*trying an older checkpoint/);
    expect(second.stdout).toContain('resuming after step 20 (periodic checkpoint #2)');
    const [t] = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(t.result).toMatchObject({ resumedFrom: 20, executed: 20 });
  });

  test('a read-only run directory: a clear error naming the directory, exit 2, nothing written', async () => {
    const dir = tempProject({ 'job.yaml': 'name: x\nstages:\n  - { id: a, plugin: steps }\n' });
    const runs = join(dir, 'runs');
    execFileSync('mkdir', ['-p', runs]);
    chmodSync(runs, 0o555);
    chmodSync(dir, 0o755);
    // root ignores permission bits, so run the CLI as an unprivileged user when we are root.
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    if (asUser.length) execFileSync('setpriv', ['--version'], { stdio: 'ignore' }); // util-linux must be there
    if (asUser.length && !nobodyCanRunCli()) return console.warn('read-only test skipped: an unprivileged user cannot reach this checkout');
    if (asUser.length) for (const p of [dir, join(dir, 'job.yaml'), join(dir, 'package.json')]) chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
    let out = '';
    let code = 0;
    try {
      execFileSync(asUser[0] ?? process.execPath, [...asUser.slice(1), ...(asUser.length ? [process.execPath] : []), join(REPO, 'packages/core/bin/runner.js'), 'start', 'job.yaml'], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1', HOME: '/tmp' },
        stdio: 'pipe',
      });
    } catch (err) {
      const e = err as { status: number; stderr: Buffer; stdout: Buffer };
      code = e.status;
      out = e.stderr.toString() + e.stdout.toString();
    }
    expect(code).toBe(2);
    expect(cliError(out)).toMatchObject({ code: 'RUNNER_STORE_UNWRITABLE', message: expect.stringContaining(`cannot write the run store at ${join(runs, 'x')}: permission denied`) });
    expect(out).toContain('--set runsDir=');
    expect(readdirSync(runs)).toEqual([]);
  });
});

/** Six tasks that each write ~300 KB checkpoints: a small disk fills quickly. */
const BIG_PROJECT: Record<string, string> = {
  'job.yaml': `name: full
plugins: [${fixture('disk-filler.mjs')}]
matrix: { symbol: [A, B, C, D, E, F] }
pool: { threads: 2 }
checkpoints: { inlineMaxBytes: 0 }
stages:
  - { id: big, plugin: big, options: { chunks: 30, padBytes: 300000 } }
`,
};
const EXPECTED_ACC = Array.from({ length: 30 }, (_, k) => k + 1).reduce((acc, i) => (acc * 31 + i) % 1000003, 0);

function execFileSyncStatus(cmd: string, args: string[], cwd: string): { status: number; out: string } {
  try {
    const out = execFileSync(cmd, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: 'pipe' }).toString();
    return { status: 0, out };
  } catch (err) {
    const e = err as { status: number; stdout: Buffer; stderr: Buffer };
    return { status: e.status, out: e.stdout.toString() + e.stderr.toString() };
  }
}

describe('a full disk', () => {
  // A small tmpfs is a real full disk; mounting one needs root and the mount capability.
  const canMount = (() => {
    if (process.getuid?.() !== 0 || process.env.RUNNER_TEST_NO_MOUNT) return false;
    const probe = mkdtempSync(join(tmpdir(), 'runner-mount-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
      execFileSync('umount', [probe], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!canMount) console.warn('full-disk test uses a file-size limit instead: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)');

  test.runIf(!canMount)('a file-size limit stops the run with a clear error; it continues once the limit is lifted', async () => {
    const dir = tempProject(BIG_PROJECT);
    // SIGXFSZ ignored, so writes past the limit fail with EFBIG instead of killing the process.
    const limited = execFileSyncStatus('sh', ['-c', `trap "" XFSZ; ulimit -f 200; exec "${process.execPath}" "${join(REPO, 'packages/core/bin/runner.js')}" start job.yaml`], dir);
    expect(limited.status).toBe(1);
    expect(limited.out).toContain(`cannot write the run store at ${join(dir, 'runs', 'full')}: a file-size limit was reached`);
    const tasks = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(tasks.map((t) => t.state)).not.toContain('failed');
    const again = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const done = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(done.map((t) => t.result.acc)).toEqual(Array(6).fill(EXPECTED_ACC));
  });

  test.runIf(canMount)('stops with a clear error, keeps what was committed, and continues once space is freed', async () => {
    const dir = tempProject(BIG_PROJECT);
    const runs = join(dir, 'runs');
    execFileSync('mkdir', ['-p', runs]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', runs]);
    try {
      const r = await runCli(['start', 'job.yaml'], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`cannot write the run store at ${join(runs, 'full')}: the disk is full`);
      expect(r.stdout).toContain('hint: Free disk space');
      // The store still opens and holds consistent state.
      const copy = join(dir, 'copy');
      execFileSync('mkdir', ['-p', copy]);
      copyFileSync(join(runs, 'full/store.mdb'), join(copy, 'store.mdb'));
      const s = RunStore.open(copy);
      const states = s.allTasks().map((t) => t.state);
      await s.close();
      // Nothing failed because of the disk: unfinished tasks wait for the next start.
      expect(states).toHaveLength(6);
      expect(states).not.toContain('failed');
      expect(states).toContain('pending');
      // Free space: move the run to a bigger filesystem and continue.
      execFileSync('cp', ['-a', join(runs, 'full'), join(dir, 'full-moved')]);
      execFileSync('umount', [runs]);
      execFileSync('mv', [join(dir, 'full-moved'), join(runs, 'full')]);
      const again = await runCli(['start', 'job.yaml'], { cwd: dir });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      const tasks = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
      expect(tasks.map((t) => t.result.acc)).toEqual(Array(6).fill(EXPECTED_ACC));
    } finally {
      try {
        execFileSync('umount', [runs], { stdio: 'ignore' });
      } catch {
        // already unmounted
      }
    }
  });
});
