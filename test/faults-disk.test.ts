/**
 * Issue 9 §2: never a crash on bad data or a failing disk. Real processes, a real tmpfs filling
 * up, a real unprivileged user losing write permission, real damaged store files.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliError, cliJson, nobodyCanRunCli, REPO, runCli, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';
import { fixture } from '@runner/test-helpers/fixtures';

const RUNNER = join(REPO, 'packages/core/bin/runner.js');
const isRoot = process.getuid?.() === 0;
const canMount = (() => {
  if (!isRoot || process.env.RUNNER_TEST_NO_MOUNT) return false;
  const probe = join(tempProject({}), 'm');
  mkdirSync(probe);
  return spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0 && spawnSync('umount', [probe]).status === 0;
})();

const STEPS = (n: number, steps = 4, stepMs = 5) => `name: d
matrix: { s: [${Array.from({ length: n }, (_, i) => `s${i}`).join(', ')}] }
pool: { threads: 2 }
lease: { heartbeatMs: 100 }
stages:
  - id: work
    plugin: steps
    options: { steps: ${steps}, stepMs: ${stepMs}, checkpointEvery: 1 }
`;

/** Inline checkpoints (in the store itself), so that LMDB's own commits hit the full disk. */
const INLINE: Record<string, string> = {
  'job.yaml': `name: inl
plugins: [${fixture('disk-filler.mjs')}]
matrix: { s: [A, B, C, D, E, F] }
pool: { threads: 2 }
checkpoints: { keep: 50 }
stages:
  - { id: big, plugin: big, options: { chunks: 30, padBytes: 60000 } }
`,
};
const ACC = Array.from({ length: 30 }, (_, k) => k + 1).reduce((acc, i) => (acc * 31 + i) % 1000003, 0);

describe('a failing disk', () => {
  test.runIf(canMount)('LMDB commits failing on a full disk stop the run cleanly, every time (12 disk sizes)', async () => {
    const dir = tempProject(INLINE);
    const runs = join(dir, 'runs');
    mkdirSync(runs);
    const outcomes: string[] = [];
    try {
      for (let kb = 200; kb <= 1300; kb += 100) {
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', runs]);
        try {
          const run = spawnCli(['start', 'job.yaml', '--plain'], { cwd: dir });
          // A runner that never exits on a full disk is the failure this test exists for: after
          // 90 s, say what it printed and where its threads are, instead of hanging the suite.
          const r = await Promise.race([run.done, new Promise<null>((res) => setTimeout(() => res(null), 90_000).unref())]);
          if (r === null) {
            const pid = run.child.pid!;
            const threads = spawnSync('sh', ['-c', `for t in /proc/${pid}/task/*; do echo "$(cat $t/comm) $(cat $t/wchan) $(cat $t/stat | cut -d' ' -f3)"; done`], { encoding: 'utf8' }).stdout;
            run.child.kill('SIGKILL');
            throw new Error(`runner did not exit at ${kb}k within 90 s; output:\n${run.output()}\nthreads (name wchan state):\n${threads}`);
          }
          const out = r.stdout + r.stderr;
          // A clean stop: exit 1 with the summary, no uncaught error, no signal.
          expect(r.signal, out).toBeNull();
          expect(r.code, out).toBe(1);
          expect(out).not.toMatch(/Emitted 'error' event|Unhandled|node:internal/);
          expect(out).toMatch(/stopped after .* because cannot write the run store at .*: (the disk is full|an I\/O error)/);
          outcomes.push(`${kb}k ok`);
          const tasks = await cliJson<{ id: string; state: string; error: unknown; notes: string[] }[]>(['tasks', 'job.yaml'], { cwd: dir });
          const failed = tasks.filter((t) => t.state === 'failed');
          expect(failed, `${kb}k: ${JSON.stringify(failed, null, 1)}\n${out}`).toEqual([]);
        } finally {
          execFileSync('umount', [runs]);
        }
        execFileSync('rm', ['-rf', join(runs, 'inl')]);
      }
    } finally {
      spawnSync('umount', [runs]);
    }
    expect(outcomes).toHaveLength(12);
  }, 300_000);

  test.runIf(isRoot)('a run directory made read-only mid-run (non-root user) stops the run; a rerun finishes what was left', async () => {
    if (!nobodyCanRunCli()) return console.warn('read-only test skipped: an unprivileged user cannot reach this checkout');
    const dir = tempProject({ 'job.yaml': STEPS(8, 30, 20) });
    for (const p of [dir, join(dir, 'job.yaml'), join(dir, 'package.json')]) chownSync(p, 65534, 65534);
    // root ignores permission bits: run the CLI as nobody.
    const cmd = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, RUNNER, 'start', 'job.yaml', '--plain'];
    const child = spawn(cmd[0]!, cmd.slice(1), { cwd: dir, env: { ...process.env, NO_COLOR: '1', HOME: '/tmp' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const done = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    await waitFor(() => /start work/.test(out), 20_000, 'the run to start');
    execFileSync('chmod', ['-R', 'a-w', join(dir, 'runs', 'd')]);
    const code = await done;
    execFileSync('chmod', ['-R', 'u+w', join(dir, 'runs', 'd')]);
    expect(code, out).toBe(1);
    expect(out).toMatch(/stopped after .* because cannot write the run store at .*: permission denied/);
    const states = (await cliJson<{ state: string }[]>(['tasks', 'job.yaml'], { cwd: dir })).map((t) => t.state);
    expect(states, out).not.toContain('failed');
    expect(states).toContain('pending');
    const again = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    expect(again.code, again.stdout + again.stderr).toBe(0);
  }, 120_000);

  test('a plugin error whose message mentions ENOSPC is a plugin failure, not a full disk', async () => {
    const dir = tempProject({
      'job.yaml': `name: msg\nplugins: [./p.mjs]\nmatrix: { s: [a, b] }\nstages:\n  - { id: w, plugin: p }\n`,
      'p.mjs': `export default { name: 'p', version: '1.0.0', run(ctx) { if (ctx.task.cell.s === 'a') throw new Error('upstream said: ENOSPC on their side'); return 1; } };\n`,
    });
    const r = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/cannot write the run store/);
    const tasks = await cliJson<{ id: string; state: string }[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(tasks.map((t) => t.state)).toEqual(['failed', 'completed']);
  });
});

describe('bad data never crashes the runner', () => {
  test('a BigInt in a result, an event, a log or a metric is stopped where it enters, with its path', async () => {
    const dir = tempProject({
      'job.yaml': `name: big\nplugins: [./p.mjs]\nmatrix: { k: [result, emit, log, metric] }\nstages:\n  - { id: w, plugin: p }\n`,
      'p.mjs': `export default { name: 'p', version: '1.0.0', run(ctx) {
  const k = ctx.task.cell.k;
  if (k === 'emit') ctx.emit('stats', { rows: [1, 2n] });
  if (k === 'log') ctx.log.info('counted', { n: 12n });
  if (k === 'metric') ctx.progress({ step: 1, metrics: { loss: 3n } });
  return k === 'result' ? { stats: { n: 10n } } : { ok: k };
} };\n`,
    });
    for (let i = 0; i < 2; i++) {
      // Twice: the first run's failures must not make the second crash (no crash loop).
      const r = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
      expect(r.signal, r.stdout + r.stderr).toBeNull();
      expect(r.code, r.stdout + r.stderr).toBe(1);
    }
    const tasks = await cliJson<{ id: string; state: string; error: { message: string } | null }[]>(['tasks', 'job.yaml'], { cwd: dir });
    const byK = Object.fromEntries(tasks.map((t) => [t.id.split('/')[1]!.slice(2), t]));
    expect(byK.result!.state).toBe('failed');
    expect(byK.result!.error!.message).toContain('holds a BigInt at result.stats.n');
    expect(byK.emit!.error!.message).toContain("ctx.emit('stats', data): data.rows[1] is a BigInt");
    expect(byK.metric!.error!.message).toContain('metrics.loss must be a number (got the BigInt 3n)');
    expect(byK.log!.state).toBe('completed');
    const log = readFileSync(join(dir, 'runs/big/events.jsonl'), 'utf8');
    expect(log).toContain('"n":"12"');
  });
});

describe('a damaged store', () => {
  async function finishedRun(): Promise<string> {
    const dir = tempProject({ 'job.yaml': STEPS(6) });
    const r = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    return dir;
  }

  test('truncated to half: a located error on every command, no SIGBUS', async () => {
    const dir = await finishedRun();
    const file = join(dir, 'runs/d/store.mdb');
    truncateSync(file, Math.floor(statSync(file).size / 2 / 4096) * 4096);
    for (const args of [['status', 'job.yaml'], ['tasks', 'job.yaml'], ['start', 'job.yaml']]) {
      const r = await runCli(args, { cwd: dir });
      expect(r.signal, args.join(' ')).toBeNull();
      expect(r.code, args.join(' ')).toBe(1);
      expect(cliError(r).code).toBe('RUNNER_STORE_CORRUPT');
      expect(cliError(r).message).toMatch(/^the run store at .* is damaged: store\.mdb is \d+ bytes but its header says it holds \d+ \(the file was truncated\)/);
      expect(r.stderr).toContain('Restore store.mdb from a backup');
    }
  });

  test('truncated to 0 bytes beside the run history: refused, not silently restarted', async () => {
    const dir = await finishedRun();
    truncateSync(join(dir, 'runs/d/store.mdb'), 0);
    const r = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/store\.mdb is empty, but the run has history \(events\.jsonl/);
    expect(r.stdout).not.toMatch(/start work/);
  });

  test('flipped bytes in a task record: the record is named, not shown as real', async () => {
    const dir = await finishedRun();
    const file = join(dir, 'runs/d/store.mdb');
    const bytes = readFileSync(file);
    // Damage every copy of the task records' state (LMDB keeps older page copies around):
    // "completed" becomes "complet\xff\xff".
    const needle = Buffer.from('completed');
    let hits = 0;
    for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) {
      bytes[at + 7] = 0xff;
      bytes[at + 8] = 0xff;
      hits++;
    }
    expect(hits).toBeGreaterThan(0);
    const fd = openSync(file, 'r+');
    writeSync(fd, bytes, 0, bytes.length, 0);
    closeSync(fd);
    const r = await runCli(['status', 'job.yaml'], { cwd: dir });
    expect(r.code, r.stdout).toBe(1);
    // status reads the compact state index first; either the index entry or the task record is named.
    expect(cliError(r).code).toBe('RUNNER_STORE_CORRUPT');
    expect(cliError(r).message).toMatch(/task work\/s=s\d\/cycle=1 has the unknown state "complet|state index entry work\/s=s\d\/cycle=1 is \["complet/);
    expect(r.stdout).not.toMatch(/NaN/);
    // `runner reset` rewrites the damaged record; the run then completes again.
    const reset = await runCli(['reset', 'job.yaml', '--force'], { cwd: dir });
    expect(reset.code, reset.stderr).toBe(0);
    const again = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });
});

describe('more environment faults', () => {
  test.runIf(canMount)('an inode table that runs out stops the run with tasks left pending', async () => {
    const dir = tempProject({
      'job.yaml': `name: ino\nmatrix: { s: [${Array.from({ length: 40 }, (_, i) => `s${i}`).join(', ')}] }\npool: { threads: 2 }\ncheckpoints: { inlineMaxBytes: 0 }\nstages:\n  - { id: work, plugin: steps, options: { steps: 3, stepMs: 1, checkpointEvery: 1 } }\n`,
    });
    const runs = join(dir, 'runs');
    mkdirSync(runs);
    // Plenty of bytes, few inodes: each task's artifact directories take several.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,nr_inodes=60', 'tmpfs', runs]);
    try {
      const r = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(/stopped after .* because cannot write the run store/);
      const states = (await cliJson<{ state: string }[]>(['tasks', 'job.yaml'], { cwd: dir })).map((t) => t.state);
      expect(states).not.toContain('failed');
      expect(states).toContain('pending');
    } finally {
      spawnSync('umount', [runs]);
    }
  }, 120_000);

  test.runIf(canMount)('status and tasks read a run on read-only media', async () => {
    const dir = tempProject({});
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir]);
    try {
      const proj = join(dir, 'p');
      mkdirSync(proj);
      execFileSync('sh', ['-c', `printf '{}' > ${proj}/package.json`]);
      execFileSync('sh', ['-c', `cat > ${proj}/job.yaml`], { input: STEPS(3) });
      expect((await runCli(['start', 'job.yaml'], { cwd: proj })).code).toBe(0);
      execFileSync('mount', ['-o', 'remount,ro', dir]);
      const status = await cliJson<{ tasks: { completed: number } }>(['status', 'job.yaml'], { cwd: proj });
      expect(status.tasks.completed).toBe(3);
      const tasks = await cliJson<{ state: string }[]>(['tasks', 'job.yaml'], { cwd: proj });
      expect(tasks.map((t) => t.state)).toEqual(['completed', 'completed', 'completed']);
    } finally {
      spawnSync('umount', [dir]);
    }
  }, 60_000);
});
