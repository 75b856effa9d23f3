/**
 * The hpo stage through the real runner (worker threads, LMDB store, child tasks) with a small
 * objective plugin standing in for the trainer.
 */
import { describe, expect, test } from 'vitest';
import { loadJobSpec } from '@runner/core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempProject } from '@runner/test-helpers/cli';
import { OBJECTIVE, readRun, runSpec, spec, trace } from './helpers.js';
import { lossOf } from './fixtures/objective.mjs';

const SPACE = { x: { float: [-1, 1] }, y: { float: [-1, 1] }, act: { choice: ['relu', 'tanh'] } };

describe('hpo stage', () => {
  test('runs trials as child tasks with the trial parameters and returns the best; a stage that needs hpo gets bestParams', async () => {
    const dir = tempProject({ 'job.yaml': spec({ matrix: { symbol: ['A', 'B'] }, final: true, hpo: { trials: 8, parallel: 2, sampler: { type: 'tpe', seed: 3 }, space: SPACE } }) });
    const summary = await runSpec(dir);
    expect(summary.exitCode).toBe(0);
    const run = readRun(dir);
    const hpo = run.tasks.get('hpo/symbol=A/cycle=1')!;
    const result = hpo.result as Record<string, any>;
    expect(result).toMatchObject({ study: 'hpo/symbol=A/cycle=1', direction: 'minimize', trials: { complete: 8, pruned: 0, failed: 0, total: 8 }, target: 8, metric: 'val_loss', sampler: 'tpe', stopped: 'target' });
    expect(Object.keys(result.bestParams).sort()).toEqual(['act', 'x', 'y']);
    // Each trial is a completed child task whose result is the objective of its parameters.
    const study = run.study('hpo/symbol=A/cycle=1')!;
    for (const t of study.trials) {
      const child = run.tasks.get(`hpo/symbol=A/cycle=1/trial=${t.number}`)!;
      expect(child.state).toBe('completed');
      expect((child.result as any).params).toEqual(t.params);
      expect(t.value).toBeCloseTo(lossOf(t.params as never) + 1 / 4, 12);
      expect(t.steps).toEqual([1, 2, 3, 4]);
    }
    expect(result.bestValue).toBe(Math.min(...study.trials.map((t) => t.value!)));
    // The downstream stage trained with the best parameters.
    expect((run.tasks.get('train/symbol=A/cycle=1')!.result as any).params).toEqual(result.bestParams);
    expect(run.study('hpo/symbol=B/cycle=1')!.trials.length).toBe(8);
  });

  test('pruning cuts the epochs run on an objective with a known bad region', async () => {
    const hpo = { trials: 24, sampler: { type: 'random', seed: 5 }, space: { x: { float: [-1, 1] }, y: { float: [-1, 1] } } };
    const plain = tempProject({});
    const pruned = tempProject({});
    // Epochs take 15 ms (real ones take seconds), so that a cancel reaches the child before it ends.
    writeFileSync(join(plain, 'job.yaml'), spec({ hpo, train: { epochs: 8, stepMs: 15, traceFile: join(plain, 'trace.log') } }));
    writeFileSync(join(pruned, 'job.yaml'), spec({ hpo: { ...hpo, pruner: { type: 'median', startupTrials: 3, warmupSteps: 1 } }, train: { epochs: 8, stepMs: 15, traceFile: join(pruned, 'trace.log') } }));
    expect((await runSpec(plain)).exitCode).toBe(0);
    expect((await runSpec(pruned)).exitCode).toBe(0);
    const a = readRun(plain).study('hpo/symbol=A/cycle=1')!;
    const b = readRun(pruned).study('hpo/symbol=A/cycle=1')!;
    // Same seed and sampler: the same parameters were tried.
    expect(b.trials.map((t) => t.params)).toEqual(a.trials.map((t) => t.params));
    expect(trace(plain).filter((l) => l.includes('/trial=')).length).toBe(24 * 8);
    const ran = trace(pruned).filter((l) => l.includes('/trial=')).length;
    const bad = b.trials.filter((t) => (t.params.x as number) > 0.6);
    expect(bad.length).toBeGreaterThan(2);
    expect(b.trials.filter((t) => t.state === 'PRUNED').length).toBeGreaterThanOrEqual(bad.length - 3);
    expect(ran).toBeLessThan(24 * 8 * 0.85);
    for (const t of b.trials.filter((x) => x.state === 'PRUNED')) {
      expect(t.value).toBe(t.values!.at(-1));
      expect(Math.max(...t.steps!)).toBeLessThan(8);
    }
    const r = readRun(pruned).tasks.get('hpo/symbol=A/cycle=1')!.result as any;
    expect(r.trials.pruned).toBe(b.trials.filter((t) => t.state === 'PRUNED').length);
    expect(r.trials.complete + r.trials.pruned).toBe(24);
  });

  test("warm start: cycle 2's first trials are cycle 1's best; cycle 1's study and retraining leave study state alone", async () => {
    const hpo = { trials: 10, sampler: { type: 'tpe', seed: 1 }, warmStart: { fromCycle: 'previous', topK: 3 }, space: SPACE };
    const dir = tempProject({ 'job.yaml': spec({ cycle: 1, hpo, final: true }) });
    expect((await runSpec(dir)).exitCode).toBe(0);
    const c1 = readRun(dir).study('hpo/symbol=A/cycle=1')!;
    expect(c1.meta.warmStart).toBeUndefined();
    writeFileSync(join(dir, 'job.yaml'), spec({ cycle: 2, hpo, final: true }));
    expect((await runSpec(dir)).exitCode).toBe(0);
    const after = readRun(dir);
    const c2 = after.study('hpo/symbol=A/cycle=2')!;
    const best3 = [...c1.trials].sort((a, b) => a.value! - b.value! || a.number - b.number).slice(0, 3);
    expect(c2.trials.slice(0, 3).map((t) => t.params)).toEqual(best3.map((t) => t.params));
    expect(c2.trials.slice(0, 3).map((t) => t.from)).toEqual(best3.map((t) => ({ study: 'hpo/symbol=A/cycle=1', number: t.number, value: t.value })));
    expect(c2.trials.length).toBe(10);
    expect((after.tasks.get('hpo/symbol=A/cycle=2')!.result as any).warmStart).toEqual({ from: 'hpo/symbol=A/cycle=1', enqueued: 3, history: false });
    expect(after.study('hpo/symbol=A/cycle=1')).toEqual(c1);
    // Retraining (rerunning the stage that needs hpo) reads the task result, never the studies.
    const studiesBefore = JSON.stringify([after.study('hpo/symbol=A/cycle=1'), after.study('hpo/symbol=A/cycle=2')]);
    const trainedAt = after.tasks.get('train/symbol=A/cycle=2')!.updatedAt;
    const hpoRecord = after.tasks.get('hpo/symbol=A/cycle=2')!;
    const { Runner, RunStore } = await import('@runner/core');
    const store = RunStore.open(join(dir, 'runs', 'hpo-test'));
    await store.reset(['train/symbol=A/cycle=2']);
    await store.close();
    expect((await new Runner(await loadJobSpec(join(dir, 'job.yaml'), { cwd: dir })).run()).exitCode).toBe(0);
    const again = readRun(dir);
    expect(again.tasks.get('train/symbol=A/cycle=2')!.state).toBe('completed');
    expect(again.tasks.get('train/symbol=A/cycle=2')!.updatedAt).toBeGreaterThan(trainedAt);
    expect((again.tasks.get('train/symbol=A/cycle=2')!.result as any).params).toEqual((hpoRecord.result as any).bestParams);
    expect(again.tasks.get('hpo/symbol=A/cycle=2')).toEqual(hpoRecord);
    expect(JSON.stringify([again.study('hpo/symbol=A/cycle=1'), again.study('hpo/symbol=A/cycle=2')])).toBe(studiesBefore);
  });

  test('the objective can be a plugin given by path instead of a stage', async () => {
    const dir = tempProject({ 'job.yaml': spec({ hpo: { trials: 3, sampler: { type: 'random', seed: 1 }, space: SPACE, objective: { plugin: OBJECTIVE, options: { epochs: 2 } } } }) });
    expect((await runSpec(dir)).exitCode).toBe(0);
    const run = readRun(dir);
    const child = run.tasks.get('hpo/symbol=A/cycle=1/trial=0')!;
    expect(child.plugin).toBe('objective');
    expect(run.study('hpo/symbol=A/cycle=1')!.trials.map((t) => t.steps)).toEqual([[1, 2], [1, 2], [1, 2]]);
  });

  test('parallel trials ≥ threads with several hpo tasks in flight: nothing deadlocks', async () => {
    const dir = tempProject({
      'job.yaml': spec({ matrix: { symbol: ['A', 'B', 'C'] }, threads: 2, hpo: { trials: 6, parallel: 3, sampler: { type: 'random', seed: 2 }, space: SPACE }, train: { epochs: 2, stepMs: 5 } }),
    });
    // A deadlock never finishes: the test's timeout reports it (a shorter guard would race a slow machine).
    const summary = await runSpec(dir);
    expect(summary.exitCode).toBe(0);
    const run = readRun(dir);
    for (const s of ['A', 'B', 'C']) expect(run.study(`hpo/symbol=${s}/cycle=1`)!.trials.filter((t) => t.state === 'COMPLETE').length).toBe(6);
  }, 300_000);

  test('raising trials continues a completed study; a changed space stops it with the config path, or starts a new study', async () => {
    const hpo = { trials: 4, sampler: { type: 'tpe', seed: 9 }, space: SPACE };
    const dir = tempProject({ 'job.yaml': spec({ hpo }) });
    expect((await runSpec(dir)).exitCode).toBe(0);
    const first = readRun(dir).study('hpo/symbol=A/cycle=1')!;
    writeFileSync(join(dir, 'job.yaml'), spec({ hpo: { ...hpo, trials: 7 } }));
    expect((await runSpec(dir)).exitCode).toBe(0);
    const more = readRun(dir);
    const s = more.study('hpo/symbol=A/cycle=1')!;
    expect(s.trials.length).toBe(7);
    expect(s.trials.slice(0, 4)).toEqual(first.trials);
    expect(more.tasks.get('hpo/symbol=A/cycle=1/trial=0')!.attempts).toBe(1);

    const changed = { ...hpo, trials: 7, space: { ...SPACE, x: { float: [-2, 1] } } };
    writeFileSync(join(dir, 'job.yaml'), spec({ hpo: changed }));
    const bad = await runSpec(dir);
    expect(bad.exitCode).toBe(1);
    const err = readRun(dir).tasks.get('hpo/symbol=A/cycle=1')!.error!;
    expect(err.message).toContain('the search space of study "hpo/symbol=A/cycle=1" changed since it was created (changed x: float [-1, 1] → float [-2, 1]); its 7 trials were sampled from the old space');
    expect(err.message).toContain('set onSpaceChange: new-study');
    expect(err.retryable).toBe(false);

    writeFileSync(join(dir, 'job.yaml'), spec({ hpo: { ...changed, trials: 3, onSpaceChange: 'new-study' } }));
    const { RunStore } = await import('@runner/core');
    const store = RunStore.open(join(dir, 'runs', 'hpo-test'));
    await store.resume(['hpo/symbol=A/cycle=1']);
    await store.close();
    expect((await runSpec(dir)).exitCode).toBe(0);
    const fresh = readRun(dir);
    const r = fresh.tasks.get('hpo/symbol=A/cycle=1')!.result as any;
    expect(r.studyKey).toBe('hpo/symbol=A/cycle=1#2');
    expect(r.trials.total).toBe(3);
    expect(fresh.tasks.get('hpo/symbol=A/cycle=1/s2.trial=0')!.state).toBe('completed');
  });
});

describe('bad search spaces are rejected with the config path', () => {
  const base = (space: unknown) => spec({ hpo: { trials: 2, space } });

  test('at config time, where JSON schema can tell (empty choices, log bounds ≤ 0, bad steps, unknown keys)', async () => {
    const dir = tempProject({
      'job.yaml': base({ act: { choice: [] }, lr: { float: [0, 0.1], log: true }, n: { int: [0, 9], log: true }, u: { int: [1, 9], step: 1.5 }, w: { float: [0, 1], steps: 2 } }),
    });
    const err = (await loadJobSpec(join(dir, 'job.yaml'), { cwd: dir }).then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: string; issues: { path: string; message: string; line?: number }[] };
    expect(err.code).toBe('RUNNER_CONFIG_INVALID');
    const byPath = Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
    expect(byPath['stages[0].options.space.act.choice']).toBe('must have at least 1 item (got an empty list)');
    expect(byPath['stages[0].options.space.lr.float[0]']).toBe('must be > 0 (got 0)');
    expect(byPath['stages[0].options.space.n.int[0]']).toBe('must be >= 1 (got 0)');
    expect(byPath['stages[0].options.space.u.step']).toBe('must be an integer (got 1.5)');
    expect(byPath['stages[0].options.space.w.steps']).toBe('unknown key "steps"');
    expect(err.issues.every((i) => typeof i.line === 'number')).toBe(true);
  });

  test('what JSON schema cannot express (low above high) too, through the plugin\'s validate hook', async () => {
    const dir = tempProject({ 'job.yaml': base({ lr: { float: [0.1, 0.0001], log: true }, units: { int: [256, 16] } }) });
    const err = (await loadJobSpec(join(dir, 'job.yaml'), { cwd: dir }).then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: string; issues: { path: string; message: string; hint?: string; line?: number; col?: number }[] };
    expect(err.code).toBe('RUNNER_CONFIG_INVALID');
    expect(err.issues.map((i) => [i.path, i.message])).toEqual([
      ['stages[0].options.space.lr.float', 'low 0.1 is above high 0.0001'],
      ['stages[0].options.space.units.int', 'low 256 is above high 16'],
    ]);
    expect(err.issues[0]!.hint).toBe('Write [low, high] with low ≤ high, e.g. [0.0001, 0.1].');
    expect(err.issues.every((i) => typeof i.line === 'number' && typeof i.col === 'number')).toBe(true);
  });
});
