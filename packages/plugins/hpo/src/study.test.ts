import { definePlugin } from '@runner/core';
import { runPlugin } from '@runner/core/testing';
import { describe, expect, test } from 'vitest';
import { HpoError, TrialPruned } from './errors.js';
import { keys, memoryStorage, readStudy } from './storage.js';
import { createStudy, loadStudy, type Study, type Trial } from './study.js';
import type { StorageKey, StudyStorage } from './types.js';

const SPACE = {
  lr: { float: [1e-4, 1e-1] as [number, number], log: true },
  units: { int: [16, 256] as [number, number], step: 16 },
  act: { choice: ['relu', 'tanh'] },
};

function objective(p: Readonly<Record<string, unknown>>): number {
  return (Math.log10(p.lr as number) + 2.5) ** 2 + ((p.units as number) - 96) ** 2 / 4096 + (p.act === 'tanh' ? 0.3 : 0);
}

/**
 * A storage that can "die" like a killed process: after kill(), nothing more is written and
 * every write hangs, while what was committed stays (the storage itself is the disk).
 */
function killable(disk: StudyStorage): StudyStorage & { kill(): void; puts: { key: StorageKey; bytes: number }[] } {
  let dead = false;
  const puts: { key: StorageKey; bytes: number }[] = [];
  return {
    puts,
    kill: () => void (dead = true),
    get: (k) => disk.get(k),
    range: (o) => disk.range(o),
    transaction: (fn) => {
      if (dead) return new Promise(() => {});
      return disk.transaction((tx) =>
        fn({
          get: tx.get,
          remove: tx.remove,
          put: (k, v) => {
            puts.push({ key: k, bytes: JSON.stringify(v).length });
            tx.put(k, v);
          },
        }),
      );
    },
  };
}

async function waitUntil(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function sequence(s: Study): unknown[] {
  return s.trials.filter((t) => t.state === 'COMPLETE').map((t) => [t.number, t.params, t.value]);
}

/** Runs a seeded study to `n` trials, "killing" it while trial `k` runs, for each k in `kills`. */
async function runWithKills(n: number, kills: number[], opts: { parallel?: number; sampler?: object; reportBeforeKill?: boolean; retryInterrupted?: number } = {}): Promise<{ study: Study; disk: StudyStorage }> {
  const disk = memoryStorage();
  for (const k of kills) {
    const store = killable(disk);
    const study = await createStudy({ name: 'seq', storage: store, sampler: { type: 'tpe', seed: 7, ...opts.sampler }, space: SPACE, recoverRunning: 'all', retryInterrupted: opts.retryInterrupted });
    let hang!: () => void;
    const hung = new Promise<void>((r) => (hang = r));
    void study
      .optimize(
        async (t) => {
          if (t.number === k) {
            if (opts.reportBeforeKill) {
              t.report(objective(t.params) + t.attempts, t.attempts);
              await study.flush();
            }
            hang();
            return new Promise<number>(() => {}); // never finishes: the process dies during it
          }
          return objective(t.params);
        },
        { trials: n, parallel: opts.parallel ?? 1 },
      )
      .catch(() => {});
    await hung;
    store.kill();
  }
  const study = await createStudy({ name: 'seq', storage: disk, sampler: { type: 'tpe', seed: 7, ...opts.sampler }, space: SPACE, recoverRunning: 'all', retryInterrupted: opts.retryInterrupted });
  await study.optimize((t) => objective(t.params), { trials: n, parallel: opts.parallel ?? 1 });
  return { study, disk };
}

describe('studies', () => {
  test('ask/tell and optimize; `trials` is a target for the whole study, so running again continues to it', async () => {
    const study = await createStudy({ name: 'a', sampler: { type: 'tpe', seed: 1 }, space: SPACE });
    const t = await study.ask();
    expect(Object.keys(t.params).sort()).toEqual(['act', 'lr', 'units']);
    await study.tell(t, objective(t.params));
    let s = await study.optimize((tr) => objective(tr.params), { trials: 10 });
    expect(s).toMatchObject({ stopped: 'target', complete: 10, finished: 10 });
    s = await study.optimize((tr) => objective(tr.params), { trials: 15 });
    expect(study.counts).toMatchObject({ complete: 15, total: 15, running: 0, waiting: 0 });
    s = await study.optimize(() => 0, { trials: 12 });
    expect(study.counts.total).toBe(15);
    expect(study.bestValue).toBe(Math.min(...study.trials.map((x) => x.value!)));
    expect(study.bestTrial?.params).toEqual(study.bestParams);
    await expect(study.tell(t, 1)).rejects.toMatchObject({ code: 'HPO_TRIAL_FINISHED' });
    await study.close();
  });

  test('define-by-run suggestions, reports and TrialPruned', async () => {
    const study = await createStudy({ name: 'dbr', sampler: { type: 'random', seed: 3 }, pruner: { type: 'median', startupTrials: 2 } });
    await study.optimize(
      (trial) => {
        const x = trial.suggestFloat('x', -3, 3);
        const n = trial.suggestInt('n', 1, 8, { log: true });
        const c = trial.suggestCategorical('c', ['a', 'b']);
        for (let step = 0; step < 5; step++) {
          trial.report(x * x + 5 - step, step);
          if (trial.shouldPrune()) throw new TrialPruned();
        }
        return x * x + n + (c === 'a' ? 0 : 1);
      },
      { trials: 20 },
    );
    const c = study.counts;
    expect(c.complete + c.pruned).toBe(20);
    expect(c.pruned).toBeGreaterThan(0);
    const pruned = study.trials.find((t) => t.state === 'PRUNED')!;
    expect(pruned.value).toBe(pruned.values!.at(-1));
    expect(Object.keys(study.distributions).sort()).toEqual(['c', 'n', 'x']);
    // A parameter keeps its distribution.
    const t = await study.ask();
    expect(() => t.suggestFloat('x', 0, 1)).toThrow(/parameter "x" of study "dbr" is float \[-3, 3\], but float \[0, 1\] was asked for/);
  });

  test('a seeded sequential study suggests the same sequence whether or not it was interrupted', async () => {
    const clean = await createStudy({ name: 'seq', sampler: { type: 'tpe', seed: 7 }, space: SPACE });
    await clean.optimize((t) => objective(t.params), { trials: 30 });
    const { study } = await runWithKills(30, [4, 12, 13, 25]);
    expect(sequence(study)).toEqual(sequence(clean));
    expect(study.counts).toMatchObject({ complete: 30, failed: 0, running: 0, waiting: 0, total: 30 });
    const retried = study.trials.filter((t) => t.attempts > 1).map((t) => t.number);
    expect(retried).toEqual([4, 12, 13, 25]);
    // Multivariate TPE too.
    const mvClean = await createStudy({ name: 'seq', sampler: { type: 'tpe', seed: 7, multivariate: true }, space: SPACE });
    await mvClean.optimize((t) => objective(t.params), { trials: 25 });
    const mv = await runWithKills(25, [11, 20], { sampler: { multivariate: true } });
    expect(sequence(mv.study)).toEqual(sequence(mvClean));
  });

  test('a trial interrupted alone and without progress more than retryInterrupted times is marked FAIL; numbers stay unique', async () => {
    const { study } = await runWithKills(12, [3, 3], { parallel: 1 });
    const trials = study.trials;
    expect(new Set(trials.map((t) => t.number)).size).toBe(trials.length);
    expect(trials.filter((t) => t.state === 'RUNNING' || t.state === 'WAITING')).toEqual([]);
    expect(study.counts.finished).toBe(12);
    const t3 = trials.find((t) => t.number === 3)!;
    expect(t3.state).toBe('FAIL');
    expect(t3.attempts).toBe(2);
    expect(t3.error).toBe('interrupted 2 times without progress while it ran alone; not retried again');
    expect(t3.failures?.map((f) => [f.reason.slice(0, 12), f.counted])).toEqual([
      ['interrupted:', true],
      ['interrupted:', true],
    ]);
  });

  test('interruptions after which the trial made progress, or that other trials shared, never count', async () => {
    // Progress: the trial reports a new intermediate value in every attempt that dies.
    const progressing = await runWithKills(8, [3, 3, 3, 3], { parallel: 1, reportBeforeKill: true });
    const t3 = progressing.study.trials.find((t) => t.number === 3)!;
    expect(t3.state).toBe('COMPLETE');
    expect(t3.attempts).toBe(5);
    expect(t3.failures?.every((f) => !f.counted && /not counted: it had made progress/.test(f.reason))).toBe(true);
    // Shared: with two trials in flight, each death is shared by the other running trial.
    const disk = memoryStorage();
    for (let k = 0; k < 3; k++) {
      const store = killable(disk);
      const study = await createStudy({ name: 'par', storage: store, sampler: { type: 'random', seed: 2 }, space: SPACE, recoverRunning: 'all' });
      let started = 0;
      let both!: () => void;
      const hung = new Promise<void>((r) => (both = r));
      void study
        .optimize(
          () => {
            if (++started === 2) both();
            return new Promise<number>(() => {});
          },
          { trials: 4, parallel: 2 },
        )
        .catch(() => {});
      await hung;
      await study.flush();
      store.kill();
    }
    const study = await createStudy({ name: 'par', storage: disk, sampler: { type: 'random', seed: 2 }, space: SPACE, recoverRunning: 'all' });
    await study.optimize((t) => objective(t.params), { trials: 4, parallel: 2 });
    expect(study.counts, JSON.stringify(study.trials.map((t) => [t.number, t.state, t.failures]))).toMatchObject({ complete: 4, failed: 0, total: 4 });
    expect(study.trials.filter((t) => t.attempts === 4).map((t) => t.number)).toEqual([0, 1]);
    // Infinity: every interruption is retried (what the hpo stage does; the runner decides there).
    const always = await runWithKills(6, [2, 2, 2], { parallel: 1, retryInterrupted: Infinity });
    expect(always.study.counts).toMatchObject({ complete: 6, failed: 0 });
  });

  test('a RUNNING trial is recovered only when its session is gone (default policy)', async () => {
    const disk = memoryStorage();
    const a = await createStudy({ name: 'lease', storage: disk, space: SPACE, sampler: { type: 'random', seed: 1 } });
    const t = await a.ask();
    // Another session in this live process still holds it: not touched.
    const b = await createStudy({ name: 'lease', storage: disk, space: SPACE, sampler: { type: 'random', seed: 1 } });
    expect(b.counts.running).toBe(1);
    await b.close();
    // The owner's process dies: its session now names a pid that does not exist.
    const stored = readStudy(disk, 'lease')!;
    const owner = stored.trials[t.number]!.owner!;
    const session = stored.sessions.find((x) => x.id === owner)!;
    await disk.transaction((tx) => tx.put(keys.session('lease', owner), { ...session, pid: 2 ** 22 + 17, procStart: undefined }));
    const c = await createStudy({ name: 'lease', storage: disk, space: SPACE, sampler: { type: 'random', seed: 1 } });
    expect(c.counts).toMatchObject({ running: 0, waiting: 1 });
    const again = await c.ask();
    expect(again.number).toBe(t.number);
    expect(again.params).toEqual(t.params);
    expect(again.attempts).toBe(2);
    expect(c.trials[t.number]!.failures?.[0]?.reason).toMatch(/^interrupted: .* stopped while it ran \(attempt 1\)$/);
  });

  test('a changed search space stops with a clear message, unless told to start a new study', async () => {
    const disk = memoryStorage();
    const a = await createStudy({ name: 'sp', storage: disk, space: SPACE, sampler: { type: 'random', seed: 1 } });
    await a.optimize((t) => objective(t.params), { trials: 5 });
    await a.close();
    const changed = { ...SPACE, lr: { float: [1e-5, 1e-1] as [number, number], log: true }, drop: { float: [0, 0.5] as [number, number] } };
    const err = await createStudy({ name: 'sp', storage: disk, space: changed }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HpoError);
    expect((err as HpoError).code).toBe('HPO_SPACE_CHANGED');
    expect((err as HpoError).message).toBe(
      'the search space of study "sp" changed since it was created (changed lr: float [0.0001, 0.1] (log) → float [0.00001, 0.1] (log); added drop: float [0, 0.5]); ' +
        'its 5 trials were sampled from the old space, so it is not continued. Restore the old space, or set onSpaceChange: new-study to start a new study (the old one is kept as "sp").',
    );
    const b = await createStudy({ name: 'sp', storage: disk, space: changed, onSpaceChange: 'new-study', sampler: { type: 'random', seed: 1 } });
    expect(b.key).toBe('sp#2');
    expect(b.counts.total).toBe(0);
    await b.optimize((t) => objective(t.params) + (t.params.drop as number), { trials: 3 });
    await b.close();
    expect(readStudy(disk, 'sp')?.meta.key).toBe('sp#2');
    const old = readStudy(disk, 'sp', { key: 'sp' })!;
    expect(old.trials.length).toBe(5);
    expect(old.meta.supersededBy).toBe('sp#2');
    // The new generation continues on the next open.
    const c = await createStudy({ name: 'sp', storage: disk, space: changed, onSpaceChange: 'new-study' });
    expect(c.key).toBe('sp#2');
    expect(c.counts.total).toBe(3);
    await expect(createStudy({ name: 'sp', storage: disk, space: changed, direction: 'maximize' })).rejects.toThrow(
      'study "sp" minimizes its objective, but maximize was asked for. A study keeps its direction: restore direction: minimize, or give the study another name.',
    );
    await expect(loadStudy({ name: 'nope', storage: disk })).rejects.toMatchObject({ code: 'HPO_STUDY_NOT_FOUND' });
  });

  test('warm start: the best K trials of the earlier study run first; history mode seeds the sampler; the earlier study is untouched', async () => {
    const disk = memoryStorage();
    const prev = await createStudy({ name: 'c1', storage: disk, space: SPACE, sampler: { type: 'tpe', seed: 2 } });
    await prev.optimize((t) => objective(t.params), { trials: 25 });
    await prev.close();
    const before = JSON.stringify(readStudy(disk, 'c1')!.trials);
    const best = [...prev.trials].sort((x, y) => x.value! - y.value!).slice(0, 4);
    const next = await createStudy({ name: 'c2', storage: disk, space: SPACE, sampler: { type: 'tpe', seed: 2 }, warmStart: { from: 'c1', topK: 4 } });
    expect(next.counts.waiting).toBe(4);
    const firstFour: Trial[] = [];
    for (let i = 0; i < 4; i++) firstFour.push(await next.ask());
    expect(firstFour.map((t) => t.params)).toEqual(best.map((t) => t.params));
    expect(firstFour.map((t) => t.source)).toEqual(['warm-start', 'warm-start', 'warm-start', 'warm-start']);
    expect(next.trials[0]!.from).toEqual({ study: 'c1', number: best[0]!.number, value: best[0]!.value });
    expect(JSON.stringify(readStudy(disk, 'c1')!.trials)).toBe(before);
    // History mode: the sampler knows 25 observations, so it models instead of sampling at random.
    const withHistory = await createStudy({ name: 'c3', storage: disk, space: SPACE, sampler: { type: 'tpe', seed: 2 }, warmStart: { from: 'c1', topK: 0, history: true } });
    const cold = await createStudy({ name: 'c4', storage: disk, space: SPACE, sampler: { type: 'tpe', seed: 2 } });
    expect(withHistory.warmStart?.historyUpTo).toBe(25);
    await withHistory.optimize((t) => objective(t.params), { trials: 8 });
    await cold.optimize((t) => objective(t.params), { trials: 8 });
    expect(withHistory.bestValue!).toBeLessThan(cold.bestValue!);
  });

  test('enqueued trials run first with their parameters; missing ones are sampled', async () => {
    const study = await createStudy({ name: 'enq', space: SPACE, sampler: { type: 'random', seed: 4 } });
    const n = await study.enqueue({ lr: 0.01, units: 96 });
    expect(await study.enqueue({ lr: 0.01, units: 96 }, { skipIfExists: true })).toBe(n);
    const t = await study.ask();
    expect(t.number).toBe(n);
    expect(t.params.lr).toBe(0.01);
    expect(t.params.units).toBe(96);
    expect(['relu', 'tanh']).toContain(t.params.act);
    expect(t.source).toBe('enqueued');
  });

  test('objective errors mark trials FAIL; too many in a row stop the study with the last error', async () => {
    const study = await createStudy({ name: 'err', space: SPACE, sampler: { type: 'random', seed: 4 } });
    let calls = 0;
    const err = await study
      .optimize(
        () => {
          calls++;
          if (calls === 2) return 1;
          throw new Error(`loss diverged (${calls})`);
        },
        { trials: 50, maxConsecutiveFailures: 3 },
      )
      .catch((e: unknown) => e);
    expect((err as HpoError).code).toBe('HPO_TOO_MANY_FAILURES');
    expect((err as Error).message).toBe(
      'study "err": 3 trials failed in a row; the last one (trial 4) with: loss diverged (5). Fix the objective, then run again: the study continues where it stopped.',
    );
    expect(study.counts).toMatchObject({ complete: 1, failed: 4 });
    expect(study.trials[0]!.error).toBe('loss diverged (1)');
    // NaN is not a value.
    const t = await study.ask();
    const told = await study.tell(t, NaN);
    expect(told.state).toBe('FAIL');
  });

  test('timeout stops starting trials and lets the ones in flight finish; an aborted signal puts them back in the queue', async () => {
    const study = await createStudy({ name: 'to', space: SPACE, sampler: { type: 'random', seed: 1 } });
    const s = await study.optimize(async (t) => {
      await new Promise((r) => setTimeout(r, 20));
      return objective(t.params);
    }, { trials: 1000, parallel: 2, timeout: 70 });
    expect(s.stopped).toBe('timeout');
    expect(study.counts.running).toBe(0);
    expect(study.counts.complete).toBeGreaterThanOrEqual(2);
    expect(study.counts.complete).toBeLessThan(20);
    const ac = new AbortController();
    const run = study.optimize(
      (_t, { signal }) =>
        new Promise<number>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
          setTimeout(() => ac.abort(new Error('stop')), 10);
        }),
      { trials: 1000, parallel: 2, signal: ac.signal },
    );
    const aborted = await run;
    expect(aborted.stopped).toBe('aborted');
    expect(study.counts).toMatchObject({ running: 0, waiting: 2, failed: 0 });
    const next = await study.ask();
    expect(next.attempts).toBe(2);
  });

  test('per-trial writes stay the same size at trial 10 and at trial 400', async () => {
    const store = killable(memoryStorage());
    const study = await createStudy({ name: 'cost', storage: store, space: SPACE, sampler: { type: 'tpe', seed: 1 } });
    const perTrial = new Map<number, { puts: number; bytes: number }>();
    await study.optimize((t) => objective(t.params), {
      trials: 400,
      onTrialEnd: (t) => {
        if (t.number === 9 || t.number === 398) store.puts.length = 0;
        if (t.number === 10 || t.number === 399) perTrial.set(t.number, { puts: store.puts.length, bytes: store.puts.reduce((a, p) => a + p.bytes, 0) });
      },
    });
    const early = perTrial.get(10)!;
    const late = perTrial.get(399)!;
    expect(early.puts).toBe(5); // ask: trial, state, live index; tell: trial, history chunk
    expect(late.puts).toBe(early.puts);
    expect(late.bytes).toBeLessThan(early.bytes * 1.2);
  });
});

describe('studies in the run store (LMDB)', () => {
  const plugin = definePlugin<{ trials: number }, { sequence: unknown[]; total: number }>({
    name: 'lmdb-study',
    version: '1.0.0',
    schema: { type: 'object', properties: { trials: { type: 'integer', default: 10 } } },
    resumeSafe: ['trials'],
    async run(ctx) {
      const study = await createStudy({ name: ctx.task.id, storage: ctx.db('studies'), sampler: { type: 'tpe', seed: 11 }, space: SPACE, recoverRunning: 'all' });
      try {
        await study.optimize((t) => objective(t.params), { trials: ctx.options.trials, signal: ctx.signal });
        return { sequence: sequence(study), total: study.counts.total };
      } finally {
        await study.close();
      }
    },
  });

  test('a study reopens from the store with its trials and RNG: 15 then 30 trials equal 30 at once', async () => {
    const first = await runPlugin(plugin, { trials: 15 });
    expect(first.outcome).toBe('completed');
    const second = await runPlugin(plugin, { trials: 30 }, { dir: first.dir });
    expect(second.result?.total).toBe(30);
    const once = await runPlugin(plugin, { trials: 30 });
    expect(second.result?.sequence).toEqual(once.result?.sequence);
    const direct = await createStudy({ name: 'test/cycle=1', sampler: { type: 'tpe', seed: 11 }, space: SPACE });
    await direct.optimize((t) => objective(t.params), { trials: 30 });
    expect(sequence(direct)).toEqual(once.result?.sequence);
  });
});
