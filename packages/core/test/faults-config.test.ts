/** Issue 9 §3 in-process: no prototype pollution, located limits, liveness without shared clocks. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { applyOverride, applyParams, deepMerge, loadJobSpec } from '../src/config/load.js';
import type { RunnerError } from '../src/errors.js';
import { ThreadExecutor } from '../src/run/executors.js';
import { LeaseObserver } from '../src/run/liveness.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'runner-faults-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'p', private: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function loadError(dir: string, opts: { set?: string[]; threads?: number } = {}): Promise<RunnerError> {
  try {
    await loadJobSpec(join(dir, 'job.yaml'), { cwd: dir, ...opts });
  } catch (err) {
    return err as RunnerError;
  }
  throw new Error('expected the spec to be rejected');
}

const STAGES = `stages:
  - id: work
    plugin: steps
    options: { steps: 3 }
`;

describe('prototype pollution', () => {
  test('a __proto__ key in the spec is an unknown-key error at its line, and pollutes nothing', async () => {
    const dir = project({ 'job.yaml': `name: p\nmatrix: { s: [a] }\n__proto__: { polluted: 1 }\npool:\n  constructor: { x: 1 }\n${STAGES}` });
    const err = await loadError(dir);
    expect(err.code).toBe('RUNNER_CONFIG_INVALID');
    expect(err.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 3, col: 1, path: '__proto__', message: '"__proto__" is not allowed as a key' }),
        expect.objectContaining({ line: 5, path: 'pool.constructor' }),
      ]),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('--set __proto__.x=1 is refused and pollutes nothing', async () => {
    const dir = project({ 'job.yaml': `name: p\n${STAGES}` });
    const err = await loadError(dir, { set: ['__proto__.polluted=1', 'stages.work.options.constructor.prototype.y=2'] });
    expect(err.issues.map((i) => i.file)).toEqual(['--set', '--set']);
    expect(err.issues[0]!.message).toContain('"__proto__" is not allowed as a key');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('merges and params never write through __proto__, constructor or prototype', () => {
    const evil = JSON.parse('{"__proto__": {"polluted": 1}, "a": {"constructor": {"prototype": {"polluted": 2}}}}') as Record<string, unknown>;
    const merged = deepMerge({ a: {} } as Record<string, unknown>, evil);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    const filled = applyParams({ x: evil }, { '__proto__.polluted': 3, 'constructor.prototype.polluted': 4 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(filled.x as object)).toEqual(['a']);
    expect(() => applyOverride({}, 'a.__proto__.b=1')).toThrow(/not allowed as a key/);
  });
});

describe('limits', () => {
  test('--threads -1 blames the flag, not the spec', async () => {
    const dir = project({ 'job.yaml': `name: p\npool: { threads: 2 }\n${STAGES}` });
    const err = await loadError(dir, { threads: -1 });
    expect(err.issues).toEqual([expect.objectContaining({ file: '--threads', path: 'pool.threads' })]);
    expect(err.issues[0]!.message).toContain('(from --threads -1)');
  });

  test('a plan over the limit is refused before it is expanded, saying how to raise it', async () => {
    const values = Array.from({ length: 100 }, (_, i) => i).join(', ');
    const dir = project({ 'job.yaml': `name: p\nmatrix:\n  a: [${values}]\n  b: [${values}]\n  c: [${values}]\n  d: [${values}]\n${STAGES}` });
    const err = await loadError(dir);
    expect(err.issues).toEqual([expect.objectContaining({ line: 3, path: 'matrix' })]);
    expect(err.issues[0]!.message).toBe('the plan has 100,000,000 tasks (work: 100 × 100 × 100 × 100 × 1 cycle); the limit is 1,000,000');
    expect(err.issues[0]!.hint).toContain('RUNNER_MAX_TASKS=100000000');
  });

  test('matrix values that collide once encoded are named together', async () => {
    const dir = project({ 'job.yaml': `name: p\nmatrix: { s: [1, "1", true, "true"] }\n${STAGES}` });
    const err = await loadError(dir);
    expect(err.issues.map((i) => [i.path, i.message])).toEqual([
      ['matrix.s[1]', '"1" and 1 (matrix.s[0]) give the same task id "s=1"'],
      ['matrix.s[3]', '"true" and true (matrix.s[2]) give the same task id "s=true"'],
    ]);
  });

  test('durations over 2^31-1 ms, .inf and too many threads are refused at their line', async () => {
    const dir = project({
      'job.yaml': `name: p\npool: { threads: 100000 }\nretries: { max: 2, backoff: { maxMs: .inf } }\nstages:\n  - id: work\n    plugin: steps\n    timeoutMs: 2592000000\n`,
    });
    const err = await loadError(dir);
    expect(err.issues.map((i) => [i.line, i.path])).toEqual(
      expect.arrayContaining([
        [2, 'pool.threads'],
        [3, 'retries.backoff.maxMs'],
        [7, 'stages[0].timeoutMs'],
      ]),
    );
    expect(err.issues.find((i) => i.path === 'retries.backoff.maxMs')!.message).toBe('must be a finite number (got Infinity)');
  });

  test('a run name or matrix value too long for the filesystem is caught by validate', async () => {
    const long = 'x'.repeat(300);
    const dir = project({ 'job.yaml': `name: ${long}\nmatrix: { s: [a, ${long}] }\n${STAGES}` });
    const err = await loadError(dir);
    expect(err.issues.map((i) => i.path)).toEqual(['matrix.s[1]', 'name']);
  });

  test('a heartbeat that cannot beat twice within the lease is refused', async () => {
    const dir = project({ 'job.yaml': `name: p\nlease: { ttlMs: 1000, heartbeatMs: 600 }\n${STAGES}` });
    const err = await loadError(dir);
    expect(err.issues).toEqual([expect.objectContaining({ line: 2, path: 'lease.heartbeatMs' })]);
  });

  test('threads beyond the cores start on demand, not at once', async () => {
    const ex = new ThreadExecutor({ threads: 100, maxThreads: 200 });
    try {
      expect(ex.pool.threads.length).toBeLessThanOrEqual(availableParallelism());
    } finally {
      await ex.close();
    }
  });
});

describe('liveness without comparing clocks', () => {
  test("another host's runner is judged by its heartbeat stamp moving on this host's own clock", () => {
    let t = 0;
    const obs = new LeaseObserver(() => t);
    // Its wall clock is a day behind ours: irrelevant, only whether the stamp moves counts.
    const rec = { id: 'other:1:a', pid: 1, host: 'some-other-host', startedAt: 0, heartbeatAt: Date.now() - 86_400_000, leaseMs: 1000, argv: [] };
    expect(obs.alive(rec)).toBe(true);
    t = 900;
    expect(obs.alive(rec)).toBe(true);
    t = 1500;
    rec.heartbeatAt += 1000; // it beat: a full lease again from now
    expect(obs.alive(rec)).toBe(true);
    t = 2400;
    expect(obs.alive(rec)).toBe(true);
    t = 2501;
    expect(obs.alive(rec)).toBe(false);
  });
});

describe('environment faults are matched by code', () => {
  test('codes decide, not message text; permission and mkdir faults count inside the run directory', async () => {
    const { environmentFault } = await import('../src/run/environment-fault.js');
    const run = '/srv/runs/x';
    expect(environmentFault({ name: 'Error', message: 'upstream: ENOSPC' }, run)).toBeUndefined();
    expect(environmentFault({ name: 'Error', message: 'x', code: 'ENOSPC' }, run)).toBe('ENOSPC');
    expect(environmentFault({ name: 'Error', message: 'x', code: 'EACCES', path: '/etc/secret' }, run)).toBeUndefined();
    expect(environmentFault({ name: 'Error', message: 'x', code: 'EACCES', path: `${run}/artifacts/a` }, run)).toBe('EACCES');
    expect(environmentFault({ name: 'Error', message: 'x', code: 'ENOENT', syscall: 'open', path: `${run}/artifacts/a` }, run)).toBeUndefined();
    expect(environmentFault({ name: 'Error', message: 'x', code: 'ENOENT', syscall: 'mkdir', path: `${run}/artifacts/a` }, run)).toBe('ENOENT');
    expect(environmentFault({ name: 'RunnerError', message: 'x', code: 'RUNNER_PLUGIN_FAILED', cause: { name: 'RunnerError', message: 'y', code: 'RUNNER_STORE_UNWRITABLE' } }, run)).toBe('RUNNER_STORE_UNWRITABLE');
  });

  test('a listener that throws does not stop the emitter or the other listeners', async () => {
    const { SafeEmitter } = await import('../src/run/safe-emitter.js');
    const e = new SafeEmitter<{ x: [number] }>();
    const got: number[] = [];
    const bad = () => {
      throw new Error('boom');
    };
    e.on('x', bad);
    e.on('x', (n: number) => got.push(n));
    e.once('x', (n: number) => got.push(n * 10));
    e.emit('x', 1);
    e.emit('x', 2);
    e.off('x', bad);
    expect(e.listenerCount('x')).toBe(1);
    expect(got).toEqual([1, 10, 2]);
  });
});
