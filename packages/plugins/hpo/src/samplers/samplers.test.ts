import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { History } from '../history.js';
import { Rng } from '../rng.js';
import { categoricalDist, contains, floatDist, intDist, parseSpace, toExternal } from '../space.js';
import { createStudy } from '../study.js';
import { GridSampler, gridValues } from './grid.js';
import { RandomSampler } from './random.js';
import { defaultGamma, defaultWeights, ParzenEstimator, paramInfo, TPE_DEFAULTS, TpeSampler } from './tpe.js';
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
      const pe = new ParzenEstimator(params, obs, c.n, { ...TPE_DEFAULTS, multivariate: c.multivariate });
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
      const s = new TpeSampler({ constantLiar: liar });
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
    const tpe = new TpeSampler();
    const a = tpe.sampleIndependent(ctxOf(h, 4), 'x', d);
    const b = new RandomSampler().sampleIndependent(ctxOf(h, 4), 'x', d);
    expect(a).toBe(b);
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
