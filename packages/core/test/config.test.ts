import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { specFixture } from '@runner/test-helpers/fixtures';
import { applyParams, loadJobSpec } from '../src/config/load.js';
import type { RunnerError } from '../src/errors.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'runner-cfg-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'p', private: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function loadError(dir: string, file = 'job.yaml', set?: string[]): Promise<RunnerError> {
  try {
    await loadJobSpec(join(dir, file), { cwd: dir, set });
  } catch (err) {
    return err as RunnerError;
  }
  throw new Error('expected the spec to be rejected');
}

const DEMO = specFixture('demo.yaml');
const ONE_STAGE = specFixture('one-stage.yaml');

describe('loadJobSpec', () => {
  test('resolves the demo spec with defaults filled in and frozen', async () => {
    const dir = project({ 'configs/demo.yaml': DEMO });
    const spec = await loadJobSpec(join(dir, 'configs/demo.yaml'), { cwd: dir });
    expect(spec.name).toBe('demo');
    expect(spec.runDir).toBe(join(dir, 'runs', 'demo'));
    expect(spec.cycles).toEqual([2]);
    expect(spec.pool.threads).toBe(2);
    expect(spec.checkpoints).toEqual({ keep: 3, keepOnComplete: 1, inlineMaxBytes: 65536 });
    expect(spec.stages[0]!.retries).toEqual({ max: 0, backoff: { initialMs: 1000, factor: 2, maxMs: 300000 } });
    expect(spec.stages[1]!.options).toEqual({ steps: 10, stepMs: 0, checkpointEvery: 10, failTimes: 1, failRetryable: true, seed: 0, ignoreCancel: false, gateStep: 1 });
    expect(spec.stages[1]!.needs).toEqual(['work']);
    expect(Object.isFrozen(spec.stages[0]!.options)).toBe(true);
  });

  test('malformed YAML is reported with line and column', async () => {
    const dir = project({ 'job.yaml': 'name: x\nstages:\n  - id: a\n    plugin: steps\n   options: {\n' });
    const err = await loadError(dir);
    expect(err.code).toBe('RUNNER_CONFIG_PARSE');
    expect(err.issues[0]).toMatchObject({ file: 'job.yaml', line: expect.any(Number), col: expect.any(Number) });
    expect(err.issues[0]!.line).toBeGreaterThanOrEqual(4);
  });

  test('duplicate keys are a parse error at the duplicate', async () => {
    const dir = project({ 'job.yaml': 'name: x\nname: y\nstages: []\n' });
    const err = await loadError(dir);
    expect(err.code).toBe('RUNNER_CONFIG_PARSE');
    expect(err.issues[0]).toMatchObject({ line: 2, col: 1 });
  });

  test('every schema error is reported at once with file:line:col, path, value and a hint', async () => {
    const dir = project({
      'job.yaml': `name: demo
pool: { threads: 0 }
stages:
  - id: work
    plugin: steps
    options:
      steps: "abc"
      stepz: 4
  - id: after
    plugn: steps
`,
    });
    const err = await loadError(dir);
    expect(err.code).toBe('RUNNER_CONFIG_INVALID');
    const byPath = Object.fromEntries(err.issues.map((i) => [i.path, i]));
    expect(byPath['pool.threads']).toMatchObject({ file: 'job.yaml', line: 2, col: 18, message: 'must be >= 1 (got 0)' });
    expect(byPath['stages[1].plugn']).toMatchObject({ line: 10, col: 5, message: 'unknown key "plugn"' });
    expect(byPath['stages[1].plugn']!.hint).toContain('Did you mean "plugin"?');
    expect(byPath['stages[1].plugn']!.hint).toContain('Allowed keys: id, plugin');
    expect(byPath['stages[1].plugin']).toMatchObject({ message: 'missing required key "plugin"' });
    expect(byPath['stages[0].options.steps']).toMatchObject({ line: 7, col: 14, message: 'must be an integer (got "abc")' });
    expect(byPath['stages[0].options.steps']!.hint).toContain('How many steps to count');
    expect(byPath['stages[0].options.stepz']).toMatchObject({ line: 8, col: 7 });
    expect(byPath['stages[0].options.stepz']!.hint).toMatch(/Did you mean "steps(Ms)?"\?/);
  });

  test('an unknown plugin names the stage, the known plugins and a suggestion', async () => {
    const dir = project({ 'job.yaml': 'name: x\nstages:\n  - id: a\n    plugin: stepz\n' });
    const err = await loadError(dir);
    expect(err.code).toBe('RUNNER_CONFIG_INVALID');
    expect(err.issues[0]).toMatchObject({ path: 'stages[0].plugin', line: 4, col: 13, message: 'no plugin named "stepz"' });
    expect(err.issues[0]!.hint).toContain('Did you mean "steps"?');
  });

  test('needs, per and cycles are checked', async () => {
    const dir = project({
      'job.yaml': `name: x
matrix: { symbol: [A] }
stages:
  - { id: a, plugin: steps, needs: [b] }
  - { id: b, plugin: steps, needs: [a, wrok], per: [sym] }
`,
    });
    const err = await loadError(dir);
    const msgs = err.issues.map((i) => `${i.path}: ${i.message}`);
    expect(msgs).toContain('stages[1].needs[1]: unknown stage "wrok"');
    expect(msgs).toContain('stages[1].per[0]: "sym" is not a matrix key');
    expect(msgs.some((m) => m.startsWith('stages: stages need each other in a cycle: a → b → a'))).toBe(true);
  });

  test('--set overrides values, selects stages by id, and its errors name the override', async () => {
    const dir = project({ 'job.yaml': DEMO });
    const spec = await loadJobSpec(join(dir, 'job.yaml'), { cwd: dir, set: ['stages.work.options.steps=300', 'pool.threads=3', 'matrix.symbol=[X]'] });
    expect(spec.stages[0]!.options.steps).toBe(300);
    expect(spec.pool.threads).toBe(3);
    expect(spec.matrix.symbol).toEqual(['X']);
    const err = await loadError(dir, 'job.yaml', ['stages.work.options.steps=abc', 'stages.nope.options.x=1']);
    expect(err.issues.map((i) => i.message)).toEqual(
      expect.arrayContaining(['must be an integer (got "abc") (from --set stages.work.options.steps=abc)', '--set stages.nope.options.x: no stage "nope"']),
    );
    expect(err.issues.every((i) => i.file === '--set')).toBe(true);
  });

  test('project defaults come from runner.config.yaml, and their errors point into that file', async () => {
    const dir = project({
      'runner.config.yaml': 'runsDir: out\npool:\n  threads: 1\npluginDefaults:\n  steps: { stepMs: 1 }\n',
      'configs/job.yaml': ONE_STAGE,
    });
    const spec = await loadJobSpec(join(dir, 'configs/job.yaml'), { cwd: dir });
    expect(spec.runDir).toBe(join(dir, 'out', 'j'));
    expect(spec.pool.threads).toBe(1);
    expect(spec.stages[0]!.options.stepMs).toBe(1);
    const bad = project({
      'runner.config.yaml': 'pool:\n  threads: -1\npluginDefaults:\n  steps: { stepMs: -5 }\n',
      'job.yaml': ONE_STAGE,
    });
    const err = await loadError(bad);
    expect(err.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'runner.config.yaml', line: 2, col: 12, path: 'pool.threads' }),
        expect.objectContaining({ file: 'runner.config.yaml', line: 4, col: 20, path: 'stages[0].options.stepMs' }),
      ]),
    );
  });

  test('project defaults may live in package.json#runner', async () => {
    const dir = project({ 'job.yaml': ONE_STAGE });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'p', runner: { dataDir: 'shared-data', pool: { threads: 4 } } }, null, 2));
    const spec = await loadJobSpec(join(dir, 'job.yaml'), { cwd: dir });
    expect(spec.dataDir).toBe(join(dir, 'shared-data'));
    expect(spec.pool.threads).toBe(4);
  });

  test('gpu resources must fit the host', async () => {
    const dir = project({ 'job.yaml': 'name: j\nstages:\n  - { id: a, plugin: steps, resources: { gpu: 1 } }\n' });
    let err: RunnerError | undefined;
    await loadJobSpec(join(dir, 'job.yaml'), { cwd: dir, checkResources: true }).catch((e) => (err = e));
    expect(err!.issues[0]).toMatchObject({ path: 'stages[0].resources.gpu', message: 'needs 1 gpu per task but this host offers 0' });
    // Commands that only read the run (status, tasks) do not check this host's capacity.
    await expect(loadJobSpec(join(dir, 'job.yaml'), { cwd: dir })).resolves.toBeTruthy();
    const ok = await loadJobSpec(join(dir, 'job.yaml'), { cwd: dir, gpus: 2, checkResources: true });
    expect(ok.pool.gpus).toBe(2);
  });

  test('${params.x} placeholders pass validation and are filled by applyParams', async () => {
    const dir = project({ 'job.yaml': 'name: j\nstages:\n  - { id: a, plugin: steps, options: { steps: "${params.n}" } }\n' });
    const spec = await loadJobSpec(join(dir, 'job.yaml'), { cwd: dir });
    expect(spec.stages[0]!.options.steps).toBe('${params.n}');
    expect(applyParams({ steps: '${params.n}', name: 'run-${params.n}', deep: { a: [1, { b: 2 }] } }, { n: 7, 'deep.a.1.b': 3, 'new.path': true })).toEqual({
      steps: 7,
      name: 'run-7',
      deep: { a: [1, { b: 3 }] },
      new: { path: true },
    });
  });

  test('a missing spec file says so', async () => {
    const dir = project({});
    const err = await loadError(dir, 'nope.yaml');
    expect(err.code).toBe('RUNNER_CONFIG_NOT_FOUND');
    expect(err.message).toContain('nope.yaml');
  });
});
