import { describe, expect, test } from 'vitest';
import { pedAnovaImportances } from './importance.js';
import { Rng } from './rng.js';
import type { Distribution } from './space.js';

const dists: Record<string, Distribution> = {
  x: { type: 'float', low: -5, high: 5, log: false },
  y: { type: 'float', low: -5, high: 5, log: false },
  lr: { type: 'float', low: 1e-5, high: 1e-1, log: true },
  act: { type: 'categorical', choices: ['relu', 'tanh', 'gelu'] },
  noise: { type: 'float', low: 0, high: 1, log: false },
};

/** x matters most, then lr (log scale) and act; noise not at all. */
function objective(p: Record<string, number | string>): number {
  return 4 * (Number(p.x) - 1) ** 2 + (Math.log10(Number(p.lr)) + 3) ** 2 + (p.act === 'tanh' ? 0 : 3) + 0.1 * (Number(p.y) ** 2) / 25;
}

function trials(n: number, seed: number) {
  const rng = Rng.fromSeed(seed);
  return Array.from({ length: n }, (_, i) => {
    const params = {
      x: -5 + 10 * rng.random(),
      y: -5 + 10 * rng.random(),
      lr: 10 ** (-5 + 4 * rng.random()),
      act: ['relu', 'tanh', 'gelu'][Math.floor(rng.random() * 3)]!,
      noise: rng.random(),
    };
    return { number: i, state: 'COMPLETE' as const, params, value: objective(params) };
  });
}

describe('PED-ANOVA importances', () => {
  test('the irrelevant parameter gets almost none; the dominant one the most', () => {
    for (const seed of [1, 2, 3]) {
      const imp = pedAnovaImportances(trials(400, seed), dists, 'minimize');
      const by = Object.fromEntries(imp.map((i) => [i.param, i.importance]));
      expect(imp[0]!.param).toBe('x');
      expect(by.noise).toBeLessThan(0.05);
      expect(by.y).toBeLessThan(0.05);
      expect(by.lr).toBeGreaterThan(by.noise! * 3);
      expect(by.act).toBeGreaterThan(by.noise! * 3);
      expect(imp.reduce((a, i) => a + i.importance, 0)).toBeCloseTo(1, 10);
    }
  });

  test('maximize ranks the top by the largest values', () => {
    const t = trials(300, 5).map((x) => ({ ...x, value: -x.value }));
    expect(pedAnovaImportances(t, dists, 'maximize')[0]!.param).toBe('x');
  });

  test('too few complete trials: no importances', () => {
    expect(pedAnovaImportances(trials(3, 1), dists, 'minimize')).toEqual([]);
    const pruned = trials(50, 1).map((t) => ({ ...t, state: 'PRUNED' as const }));
    expect(pedAnovaImportances(pruned, dists, 'minimize')).toEqual([]);
  });
});
