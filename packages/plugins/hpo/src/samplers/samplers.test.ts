import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { History } from '../history.js';
import { Rng } from '../rng.js';
import { categoricalDist, contains, floatDist, intDist, parseSpace, toExternal } from '../space.js';
import { createStudy } from '../study.js';
import { GridSampler, gridValues } from './grid.js';
import { RandomSampler } from './random.js';
import { createSampler } from './index.js';
import { fromUnit, ScrambledHalton } from './qmc.js';
import { defaultGamma, defaultWeights, improvementWeights, ParzenEstimator, paramInfo, selectBelow, TPE_DEFAULTS, TPE_OPTUNA_31, TpeSampler } from './tpe.js';
import type { Distribution } from '../space.js';
import type { SamplingContext } from './types.js';

const branin = (x1: number, x2: number) => {
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
};

async function bestAfter(sampler: { type: 'tpe' | 'random'; multivariate?: boolean }, seed: number, n: number): Promise<number> {
  const study = await createStudy({ name: `s${seed}`, sampler: { ...sampler, seed } });
  await study.optimize((t) => branin(t.suggestFloat('x1', -5, 10), t.suggestFloat('x2', 0, 15)), { trials: n });
  await study.close();
  return study.bestValue!;
}

function ctxOf(h: History, seed = 1): SamplingContext {
  return { rng: Rng.fromSeed(seed), history: h, running: [], trialNumber: h.n, studyName: 's' };
}

describe('TPE', () => {
  test("gamma and weights are Optuna's defaults", () => {
    expect([0, 1, 9, 10, 11, 100, 249, 250, 251, 1500].map(defaultGamma)).toEqual([0, 1, 1, 1, 2, 10, 25, 25, 25, 25]);
    expect(Array.from(defaultWeights(26))).toEqual([0.038461538461538464, ...Array(25).fill(1)]);
    const w30 = Array.from(defaultWeights(30));
    expect(w30.slice(0, 5).map((x) => Number(x.toFixed(12)))).toEqual([0.033333333333, 0.275, 0.516666666667, 0.758333333333, 1]);
    expect(Array.from(defaultWeights(10))).toEqual(Array(10).fill(1));
  });

  test("the Parzen estimators equal Optuna 3.1's: kernel means, widths, weights and log densities", () => {
    // From test/fixtures/optuna-parzen.py: float, log, stepped, int, log-int and categorical
    // parameters, with 0, 7 and 40 observations, univariate and multivariate.
    type Case = { n: number; multivariate: boolean; weights: number[]; logPdf: number[]; params: { name: string; dist: Distribution; obs: number[]; samples: number[]; mus: number[] | null; sigmas: number[] | null }[] };
    const { cases } = JSON.parse(readFileSync(new URL('../../test/fixtures/optuna-parzen.json', import.meta.url), 'utf8')) as { cases: Case[] };
    expect(cases.length).toBe(21);
    const close = (a: ArrayLike<number>, b: number[], tol: number) => {
      expect(a.length).toBe(b.length);
      for (let i = 0; i < b.length; i++) expect(Math.abs(a[i]! - b[i]!), `[${i}] ${a[i]} vs ${b[i]}`).toBeLessThan(tol * Math.max(1, Math.abs(b[i]!)));
    };
    for (const c of cases) {
      const params = c.params.map((p, i) => paramInfo(p.name, p.dist, i));
      const obs = c.params.map((p, i) => Float64Array.from(p.obs.map((v) => (params[i]!.log ? Math.log(v) : v))));
      const pe = new ParzenEstimator(params, obs, c.n, { ...TPE_OPTUNA_31, multivariate: c.multivariate });
      close(pe.w, c.weights, 1e-12);
      // Equal observations get the same set of widths, but Optuna pairs them with the
      // observations' weights in the order of NumPy's unstable quicksort, ours in trial order.
      const ties = !c.multivariate && c.params.some((p) => new Set(p.obs).size < p.obs.length);
      c.params.forEach((p, i) => {
        if (p.mus) close(pe.mus[i]!, p.mus, 1e-12);
        if (p.sigmas) close(ties ? Float64Array.from(pe.sigmas[i]!).sort() : pe.sigmas[i]!, ties ? [...p.sigmas].sort((a, b) => a - b) : p.sigmas, 1e-12);
      });
      if (!ties) close(pe.logPdf(c.params.map((p) => Float64Array.from(p.samples)), c.logPdf.length), c.logPdf, 1e-9);
    }
  });

  test('beats random search on Branin after 100 trials (median over 5 seeds), univariate and multivariate', async () => {
    const seeds = [0, 1, 2, 3, 4];
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[2]!;
    const tpe = med(await Promise.all(seeds.map((s) => bestAfter({ type: 'tpe' }, s, 100))));
    const mv = med(await Promise.all(seeds.map((s) => bestAfter({ type: 'tpe', multivariate: true }, s, 100))));
    const rnd = med(await Promise.all(seeds.map((s) => bestAfter({ type: 'random' }, s, 100))));
    expect(tpe).toBeLessThan(rnd);
    expect(mv).toBeLessThan(rnd);
    expect(tpe).toBeLessThan(0.5); // the minimum is 0.397887
  });

  test('suggestions respect log, int, step and categorical distributions', () => {
    const h = new History();
    const dists = { lr: floatDist(1e-5, 1e-1, { log: true }), units: intDist(16, 256, { step: 16 }), n: intDist(1, 1000, { log: true }), d: floatDist(0, 0.5, { step: 0.05 }), act: categoricalDist(['relu', 'tanh', 'gelu']) };
    const cols = Object.entries(dists).map(([k, d]) => [k, d, h.column(k, d)] as const);
    const rng = Rng.fromSeed(5);
    const random = new RandomSampler();
    for (let i = 0; i < 40; i++) {
      const vals = new Map<number, number>();
      for (const [k, d, c] of cols) vals.set(c, random.sampleIndependent({ ...ctxOf(h), rng }, k, d));
      h.add(i, vals, rng.random(), -Infinity);
    }
    for (const multivariate of [false, true]) {
      const tpe = new TpeSampler({ multivariate });
      const ctx = ctxOf(h, 9);
      for (let i = 0; i < 30; i++) {
        const rel = tpe.sampleRelative(ctx, dists);
        for (const [k, d] of Object.entries(dists)) {
          const internal = rel.get(k) ?? tpe.sampleIndependent(ctx, k, d);
          expect(contains(d, toExternal(d, internal)), `${k} = ${internal}`).toBe(true);
          // Discrete values come out on the grid (up to float noise that toExternal removes).
          if (d.type === 'categorical') expect(Number.isInteger(internal)).toBe(true);
          else if (d.type === 'int' || d.step !== undefined) expect(Math.abs((toExternal(d, internal) as number) - internal)).toBeLessThan(1e-9);
        }
      }
    }
  });

  test('the constant liar spreads parallel suggestions away from running trials', () => {
    const h = new History();
    const d = floatDist(0, 1);
    const c = h.column('x', d);
    // Good region near 0.2 is well established.
    for (let i = 0; i < 40; i++) {
      const x = i / 40;
      h.add(i, new Map([[c, x]]), Math.abs(x - 0.2), -Infinity);
    }
    const running = Array.from({ length: 8 }, () => new Map([['x', 0.2]]));
    const spread = (liar: boolean) => {
      const s = new TpeSampler({ preset: 'optuna-3.1', constantLiar: liar });
      const xs = Array.from({ length: 20 }, (_, i) => s.sampleIndependent({ rng: Rng.fromSeed(i), history: h, running, trialNumber: 40, studyName: 's' }, 'x', d));
      return xs.reduce((a, x) => a + Math.abs(x - 0.2), 0) / xs.length;
    };
    expect(spread(true)).toBeGreaterThan(spread(false));
  });

  test('samples randomly until startupTrials observations exist', () => {
    const h = new History();
    const d = floatDist(0, 1);
    const c = h.column('x', d);
    for (let i = 0; i < 9; i++) h.add(i, new Map([[c, 0.5]]), 0, -Infinity);
    const tpe = new TpeSampler({ preset: 'optuna-3.1' });
    const a = tpe.sampleIndependent(ctxOf(h, 4), 'x', d);
    const b = new RandomSampler().sampleIndependent(ctxOf(h, 4), 'x', d);
    expect(a).toBe(b);
  });
});

describe('TPE presets and the default configuration', () => {
  test("preset optuna-3.1 is Optuna 3.1's TPESampler; the default preset changes five things; given settings override either", () => {
    const opts = (c: object) => (createSampler({ type: 'tpe', ...c } as never, 1) as TpeSampler).options;
    const { gamma: _g, weights: _w, seed: _s, ...compat } = opts({ preset: 'optuna-3.1' });
    const { gamma: _g2, weights: _w2, seed: _s2, ...optuna } = TPE_OPTUNA_31;
    expect(compat).toEqual(optuna);
    expect(opts({})).toMatchObject({ multivariate: true, bandwidth: 'scott', univariateShare: 0.5, weighting: 'ei', magicClipExponent: 1.25, startup: 'halton', candidates: 24, startupTrials: 10 });
    expect(opts({ preset: 'optuna-3.1', multivariate: true, startup: 'halton' })).toMatchObject({ multivariate: true, bandwidth: 'optuna', startup: 'halton', weighting: 'optuna' });
    expect(opts({ multivariate: false, weighting: 'optuna' })).toMatchObject({ multivariate: false, weighting: 'optuna', startup: 'halton', magicClipExponent: 1.25 });
    expect(TPE_DEFAULTS.kernelDensity).toBe('optuna-3.1');
  });

  test("multivariate kernels with Scott's rule: per parameter 1.059·min(IQR/1.34, sd)·n^(-1/5), floored by the magic clip", () => {
    const d = floatDist(0, 10);
    const params = [paramInfo('a', d, 0), paramInfo('b', d, 1)];
    const a = [0.5, 2, 6, 8, 9.5];
    const b = [5, 5.1, 5.2, 5.3, 5.4];
    const pe = new ParzenEstimator(params, [Float64Array.from(a), Float64Array.from(b)], 5, { ...TPE_DEFAULTS, magicClipExponent: 1 });
    // The kernels' means include the prior's (the middle of the range), as in Watanabe 2023.
    const rule = (xs: number[]) => {
      const n = xs.length;
      const mean = xs.reduce((s, x) => s + x, 0) / n;
      const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
      const q = [...xs].sort((x, y) => x - y);
      const at = (f: number) => q[Math.floor(f * (n - 1))]! + (q[Math.min(n - 1, Math.floor(f * (n - 1)) + 1)]! - q[Math.floor(f * (n - 1))]!) * (f * (n - 1) - Math.floor(f * (n - 1)));
      return 1.059 * Math.min((at(0.75) - at(0.25)) / 1.34, sd) * n ** -0.2;
    };
    const sa = rule([...a, 5]);
    expect(sa).toBeGreaterThan(10 / 7);
    for (let j = 0; j < 5; j++) expect(pe.sigmas[0]![j]).toBeCloseTo(sa, 12);
    // b is tightly clustered: its width is the magic clip's floor, range / (1 + kernels).
    for (let j = 0; j < 5; j++) expect(pe.sigmas[1]![j]).toBeCloseTo(10 / 7, 12);
    // The prior keeps the whole range.
    expect(pe.sigmas[0]![5]).toBe(10);
    // Exponent 1.25 floors lower: range / 7^1.25.
    const pe2 = new ParzenEstimator(params, [Float64Array.from(a), Float64Array.from(b)], 5, TPE_DEFAULTS);
    expect(pe2.sigmas[1]![0]).toBeCloseTo(10 / 7 ** 1.25, 12);
    // ... but never below range / 100.
    const many = Float64Array.from({ length: 200 }, (_, i) => 5 + i * 1e-4);
    const pe3 = new ParzenEstimator([paramInfo('b', d, 0)], [many], 200, TPE_DEFAULTS);
    expect(pe3.sigmas[0]![0]).toBeCloseTo(0.1, 12);
  });

  test('ei weighting weighs each good trial by its improvement on the best bad one; pruned trials fall back to plain weights', () => {
    const h = new History();
    const c = h.column('x', floatDist(0, 1));
    const scores = [5, 1, 3, 0.5, 4, 2];
    scores.forEach((v, i) => h.add(i, new Map([[c, i / 10]]), v, -Infinity));
    const below = selectBelow(h, 3);
    expect(Array.from(below)).toEqual([0, 1, 0, 1, 0, 1]);
    // The best bad score is 3.
    expect(Array.from(improvementWeights(h, [1, 3, 5], below)!)).toEqual([2, 2.5, 1]);
    const pe = new ParzenEstimator([paramInfo('x', floatDist(0, 1), 0)], [Float64Array.from([0.1, 0.3, 0.5])], 3, TPE_DEFAULTS, undefined, Float64Array.from([2, 2.5, 1]));
    // The prior weighs the mean improvement: weights 2, 2.5, 1 and 11/6, normalised.
    const total = 2 + 2.5 + 1 + 11 / 6;
    expect(Array.from(pe.w).map((x) => x * total)).toEqual([2, 2.5, 1, 11 / 6].map((x) => expect.closeTo(x, 12)));
    h.add(6, new Map([[c, 0.9]]), 0.1, -3);
    expect(improvementWeights(h, [1, 3, 6], selectBelow(h, 3))).toBeUndefined();
  });

  test('with univariateShare 0.5 every other trial is sampled one parameter at a time', () => {
    const h = new History();
    const space = { a: floatDist(0, 1), b: floatDist(0, 1) };
    const ca = h.column('a', space.a);
    const cb = h.column('b', space.b);
    const rng = Rng.fromSeed(3);
    for (let i = 0; i < 20; i++) h.add(i, new Map([[ca, rng.random()], [cb, rng.random()]]), rng.random(), -Infinity);
    const tpe = new TpeSampler();
    const joint = [20, 21, 22, 23, 24, 25].map((t) => tpe.sampleRelative({ ...ctxOf(h), trialNumber: t }, space).size);
    expect(joint).toEqual([2, 0, 2, 0, 2, 0]);
    expect(new TpeSampler({ univariateShare: 0 }).sampleRelative({ ...ctxOf(h), trialNumber: 21 }, space).size).toBe(2);
  });

  test('in a conditional space the joint model covers the parameters every trial has; the others come from the trials that have them', () => {
    // model 0 has parameter a (best near 0.8), model 1 has b; s is shared.
    const h = new History();
    const space = { model: categoricalDist([0, 1]), s: floatDist(0, 1), a: floatDist(0, 1), b: floatDist(0, 1) };
    const cm = h.column('model', space.model);
    const cs = h.column('s', space.s);
    const ca = h.column('a', space.a);
    const cb = h.column('b', space.b);
    const rng = Rng.fromSeed(5);
    for (let i = 0; i < 40; i++) {
      const s = rng.random();
      const v = rng.random();
      if (i % 2 === 0) h.add(i, new Map([[cm, 0], [cs, s], [ca, v]]), (v - 0.8) ** 2 + 0.1 * s, -Infinity);
      else h.add(i, new Map([[cm, 1], [cs, s], [cb, v]]), 1 + v, -Infinity);
    }
    for (const preset of ['default', 'optuna-3.1'] as const) {
      const tpe = new TpeSampler({ preset, multivariate: true, univariateShare: 0 });
      const rel = tpe.sampleRelative({ ...ctxOf(h), trialNumber: 40 }, space);
      expect([...rel.keys()].sort()).toEqual(['model', 's']);
      // a is sampled on its own from the 20 trials that have it: near the good ones, not uniform.
      const draws = Array.from({ length: 30 }, (_, k) => tpe.sampleIndependent(ctxOf(h, 100 + k), 'a', space.a));
      const near = draws.filter((x) => Math.abs(x - 0.8) < 0.25).length;
      expect(near, `${preset}: ${draws.map((x) => x.toFixed(2)).join(' ')}`).toBeGreaterThanOrEqual(22);
    }
    // With every parameter in every trial, the joint model covers all of them.
    const full = new History();
    const fs = { x: floatDist(0, 1), y: floatDist(0, 1) };
    const cx = full.column('x', fs.x);
    const cy = full.column('y', fs.y);
    for (let i = 0; i < 12; i++) full.add(i, new Map([[cx, rng.random()], [cy, rng.random()]]), rng.random(), -Infinity);
    expect(new TpeSampler({ univariateShare: 0 }).sampleRelative({ ...ctxOf(full), trialNumber: 12 }, fs).size).toBe(2);
  });

  test('startup trials come from a scrambled Halton sequence: stratified, in bounds, reproducible, and seeded', () => {
    const seq = new ScrambledHalton(7, 'study');
    // Base 2 (first parameter): 8 consecutive points put one in each eighth; base 3: one in each ninth.
    expect(new Set(Array.from({ length: 8 }, (_, i) => Math.floor(seq.value(i, 0) * 8))).size).toBe(8);
    expect(new Set(Array.from({ length: 9 }, (_, i) => Math.floor(seq.value(i, 1) * 9))).size).toBe(9);
    expect(new Set(Array.from({ length: 25 }, (_, i) => Math.floor(seq.value(i, 2) * 5))).size).toBe(5);
    const again = new ScrambledHalton(7, 'study');
    expect(Array.from({ length: 5 }, (_, i) => again.value(i + 3, 4))).toEqual(Array.from({ length: 5 }, (_, i) => seq.value(i + 3, 4)));
    expect(new ScrambledHalton(8, 'study').value(1, 0)).not.toBe(seq.value(1, 0));
    expect(new ScrambledHalton(7, 'other').value(1, 0)).not.toBe(seq.value(1, 0));
    // Mapped onto distributions as the random sampler maps uniform draws.
    const dists = { lr: floatDist(1e-5, 1e-1, { log: true }), units: intDist(16, 256, { step: 16 }), act: categoricalDist(['relu', 'tanh', 'gelu']), d: floatDist(0, 0.5, { step: 0.05 }) };
    for (let i = 0; i < 50; i++) for (const [j, d] of Object.values(dists).entries()) expect(contains(d, toExternal(d, fromUnit(d, seq.value(i, j))))).toBe(true);
    expect(new Set(Array.from({ length: 6 }, (_, i) => fromUnit(dists.act, seq.value(i, 0)))).size).toBe(3);
    // The sampler's: point <trial number>, parameters in name order, scrambled by seed and study.
    const tpe = new TpeSampler({ seed: 7 });
    const h = new History();
    const mine = new ScrambledHalton(7, 's');
    const p0 = tpe.sampleRelative({ ...ctxOf(h), trialNumber: 3 }, { y: floatDist(-1, 1), x: floatDist(0, 1) });
    expect(p0.get('x')).toBe(mine.value(3, 0));
    expect(p0.get('y')).toBe(-1 + 2 * mine.value(3, 1));
    expect(new TpeSampler({ seed: 7, startup: 'random' }).sampleRelative({ ...ctxOf(h), trialNumber: 3 }, { x: floatDist(0, 1) }).size).toBe(0);
  });
});

describe('history', () => {
  test('keeps each column in (value, row) order as rows arrive, also out of trial order', () => {
    const h = new History();
    const d = floatDist(0, 1);
    const a = h.column('a', d);
    const rng = Rng.fromSeed(8);
    const numbers = Array.from({ length: 300 }, (_, i) => i).sort(() => rng.random() - 0.5);
    for (const n of numbers) h.add(n, new Map([[a, n % 7 === 0 ? 0.5 : Math.round(rng.random() * 20) / 20]]), 0, -Infinity);
    const b = h.column('b', d); // added late: no rows
    expect(h.sortedLen[b]).toBe(0);
    const rows = Array.from(h.sorted[a]!.subarray(0, h.sortedLen[a]!));
    const expected = Array.from({ length: h.n }, (_, r) => r).sort((x, y) => h.cols[a]![x]! - h.cols[a]![y]! || x - y);
    expect(rows).toEqual(expected);
    expect(Array.from(h.order.subarray(0, h.n))).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});

describe('grid', () => {
  test('enumerates discrete values, spaces continuous ones (log-spaced for log), and visits each point once', async () => {
    expect(gridValues(intDist(16, 64, { step: 16 }), { points: 5, maxValues: 64 })).toEqual([16, 32, 48, 64]);
    expect(gridValues(floatDist(1e-4, 1e-1, { log: true }), { points: 4, maxValues: 64 }).map((v) => Number(v.toPrecision(6)))).toEqual([0.0001, 0.001, 0.01, 0.1]);
    const study = await createStudy({ name: 'g', sampler: { type: 'grid', seed: 3, gridPoints: 3 }, space: parseSpace({ a: { choice: ['x', 'y'] }, b: { float: [0, 1] } }).space });
    const summary = await study.optimize((t) => (t.params.a === 'x' ? 0 : 1) + (t.params.b as number), { trials: 100 });
    expect(summary.stopped).toBe('grid-exhausted');
    expect(study.trials.length).toBe(6);
    const seen = new Set(study.trials.map((t) => `${t.params.a}/${t.params.b}`));
    expect(seen.size).toBe(6);
    expect(study.bestParams).toEqual({ a: 'x', b: 0 });
    expect(() => new GridSampler({ points: 5, maxValues: 64, seed: 1 }).sampleIndependent(ctxOf(new History()), 'x', floatDist(0, 1))).toThrow(/whole space up front/);
  });
});
