import { describe, expect, test } from 'vitest';
import { erf, erfc, logGaussMass, logNdtr, ndtr, ndtri, truncnormPpf } from './math.js';
import { crc32, Rng } from './rng.js';

// Reference values from CPython's math.erf/erfc, Optuna 3.1's _truncnorm and statistics.NormalDist.
const ERF: [number, number, number][] = [
  [-6.5, -1.0, 2.0],
  [-3, -0.9999779095030014, 1.9999779095030015],
  [-1.2, -0.9103139782296353, 1.9103139782296354],
  [-0.5, -0.5204998778130465, 1.5204998778130465],
  [0.1, 0.1124629160182849, 0.8875370839817152],
  [0.9, 0.7969082124228322, 0.20309178757716786],
  [1.3, 0.9340079449406524, 0.06599205505934755],
  [2.7, 0.9998656672600594, 0.00013433273994052422],
  [4.2, 0.9999999971445058, 2.8554941795921843e-9],
];

function rel(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

describe('special functions', () => {
  test('erf and erfc match CPython to double precision', () => {
    for (const [x, e, ec] of ERF) {
      expect(rel(erf(x), e), `erf(${x})`).toBeLessThan(1e-15);
      expect(rel(erfc(x), ec), `erfc(${x})`).toBeLessThan(1e-15);
    }
  });

  test('log Φ is accurate deep in the left tail (asymptotic series) and near 0 on the right', () => {
    const ref: [number, number][] = [
      [-50, -1254.8313611394199],
      [-25, -316.6394080080202],
      [-5, -15.064998393988724],
      [0, -0.6931471805599453],
      [3, -0.0013508099647482027],
      [8, -6.220960574271819e-16],
    ];
    for (const [x, v] of ref) expect(rel(logNdtr(x), v), `logNdtr(${x})`).toBeLessThan(1e-12);
  });

  test('log Gaussian mass of an interval, stable in both tails (Optuna _log_gauss_mass)', () => {
    const ref: [number, number, number][] = [
      [-1, 2, -0.20016629432446262],
      [-30, -29, -424.7874199097303],
      [29, 30, -424.7874199097303],
      [-0.1, 0.1, -2.5300420015472382],
      [3, 3.5, -6.7968680066834315],
      [-9, -8.9, -43.24004509901112],
      [-40, 40, 0],
    ];
    for (const [a, b, v] of ref) expect(Math.abs(logGaussMass(a, b) - v), `[${a}, ${b}]`).toBeLessThan(1e-10 * Math.max(1, Math.abs(v)));
  });

  test('ndtri inverts ndtr, including at 1e-300', () => {
    const ref: [number, number][] = [
      [1e-300, -37.0470962993612],
      [1e-10, -6.361340902404056],
      [0.02, -2.0537489106318225],
      [0.3, -0.5244005127080407],
      [0.5, 0],
      [0.9, 1.2815515655446008],
      [0.999, 3.090232306167813],
    ];
    for (const [p, x] of ref) expect(Math.abs(ndtri(p) - x), `ndtri(${p})`).toBeLessThan(1e-13 * Math.max(1, Math.abs(x)));
    for (const x of [-8, -2.5, -0.3, 0.7, 4]) expect(Math.abs(ndtri(ndtr(x)) - x)).toBeLessThan(1e-9);
  });

  test('truncated normal draws stay in bounds and follow the truncated CDF', () => {
    const rng = Rng.fromSeed(3);
    for (const [a, b] of [
      [-0.5, 3],
      [-40, 0.1],
      [-2, 2],
      [0.5, 9],
      [-12, -11],
    ] as const) {
      const xs = Array.from({ length: 4000 }, () => truncnormPpf(rng.random(), a, b));
      for (const x of xs) {
        expect(x).toBeGreaterThanOrEqual(a);
        expect(x).toBeLessThanOrEqual(b);
      }
      // The median of the draws is the truncated distribution's median.
      const sorted = xs.sort((p, q) => p - q);
      const med = sorted[2000]!;
      const fa = ndtr(a);
      const fb = ndtr(b);
      const expectedMed = a < -30 ? ndtri(0.5 * ndtr(b)) : ndtri(fa + 0.5 * (fb - fa));
      expect(Math.abs(med - expectedMed)).toBeLessThan(0.1 * Math.max(1, b - a) * 0.5);
    }
  });

  test('the RNG is reproducible from a seed and from a saved state', () => {
    const a = Rng.fromSeed(7, 'study');
    const b = Rng.fromSeed(7, 'study');
    const c = Rng.fromSeed(7, 'other');
    const xs = Array.from({ length: 5 }, () => a.random());
    expect(Array.from({ length: 5 }, () => b.random())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.random())).not.toEqual(xs);
    const saved = a.state();
    const next = Array.from({ length: 5 }, () => a.random());
    const restored = new Rng(saved);
    expect(Array.from({ length: 5 }, () => restored.random())).toEqual(next);
    const mean = Array.from({ length: 20000 }, () => a.random()).reduce((s, x) => s + x, 0) / 20000;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
  });

  test('crc32 equals Python binascii.crc32 (Hyperband brackets depend on it)', () => {
    expect(crc32('hello')).toBe(907060870);
    expect(crc32('study_3')).toBe(2365204134);
    expect(crc32('hpo/symbol=A/cycle=1_17')).toBe(2295517659);
  });
});
