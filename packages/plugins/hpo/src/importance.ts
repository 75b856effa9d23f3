/**
 * Parameter importances by PED-ANOVA (Watanabe et al., "PED-ANOVA: Efficiently Quantifying
 * Hyperparameter Importance in Arbitrary Subspaces", IJCAI 2023), as Optuna's
 * `PedAnovaImportanceEvaluator` computes them: for each parameter, the Pearson divergence between
 * the distribution of its values among the best trials (the top `quantile`, 10% by default) and
 * among all complete trials, each estimated in 1-D (a Parzen estimator on a grid for numbers,
 * smoothed frequencies for choices). A parameter that does not matter has the same distribution
 * in both, so a divergence near 0. Importances are normalised to sum to 1.
 */
import type { Distribution, ParamValue } from './space.js';
import type { Direction, TrialRecord } from './types.js';

export interface ImportanceOptions {
  /** Share of complete trials counted as good. @default 0.1 */
  quantile?: number;
  /** Grid points for numeric parameters. @default 50 */
  gridSize?: number;
}

export interface Importance {
  param: string;
  /** Share of the total divergence (sums to 1 over parameters, when any is positive). */
  importance: number;
  /** The raw Pearson divergence. */
  divergence: number;
}

/** Importances, most important first; empty with fewer than 4 complete trials. */
export function pedAnovaImportances(
  trials: readonly Pick<TrialRecord, 'state' | 'params' | 'value'>[],
  dists: Record<string, Distribution>,
  direction: Direction,
  options: ImportanceOptions = {},
): Importance[] {
  const done = trials.filter((t) => t.state === 'COMPLETE' && typeof t.value === 'number' && Number.isFinite(t.value));
  if (done.length < 4) return [];
  const sorted = [...done].sort((a, b) => (direction === 'minimize' ? a.value! - b.value! : b.value! - a.value!));
  const nTop = Math.max(2, Math.ceil(sorted.length * (options.quantile ?? 0.1)));
  const top = sorted.slice(0, nTop);
  const out: Importance[] = [];
  for (const [param, dist] of Object.entries(dists)) {
    const all = done.map((t) => t.params[param]).filter((v) => v !== undefined);
    const good = top.map((t) => t.params[param]).filter((v) => v !== undefined);
    if (all.length < 4 || good.length < 2) continue;
    let pAll: number[];
    let pGood: number[];
    if (dist.type === 'categorical') {
      const index = (v: ParamValue) => dist.choices.findIndex((c) => c === v);
      pAll = frequencies(all.map(index), dist.choices.length);
      pGood = frequencies(good.map(index), dist.choices.length);
    } else {
      const grid = options.gridSize ?? 50;
      const unit = (v: ParamValue) => toUnit(Number(v), dist);
      pAll = parzen(all.map(unit), grid);
      pGood = parzen(good.map(unit), grid);
    }
    let d = -1;
    for (let i = 0; i < pAll.length; i++) d += (pGood[i]! * pGood[i]!) / pAll[i]!;
    out.push({ param, divergence: Math.max(0, d), importance: 0 });
  }
  const total = out.reduce((a, x) => a + x.divergence, 0);
  for (const x of out) x.importance = total > 0 ? x.divergence / total : 0;
  return out.sort((a, b) => b.importance - a.importance);
}

function toUnit(v: number, d: { low: number; high: number; log: boolean }): number {
  const [lo, hi, x] = d.log ? [Math.log(d.low), Math.log(d.high), Math.log(Math.max(v, d.low))] : [d.low, d.high, v];
  return hi > lo ? Math.min(1, Math.max(0, (x - lo) / (hi - lo))) : 0.5;
}

/** Smoothed category frequencies (one pseudo-count spread over the categories). */
function frequencies(indices: number[], k: number): number[] {
  const counts = new Array<number>(k).fill(1 / k);
  for (const i of indices) if (i >= 0) counts[i]! += 1;
  const n = indices.length + 1;
  return counts.map((c) => c / n);
}

/**
 * Probability mass on `grid` cells of [0, 1] of a Gaussian Parzen estimator (Scott's bandwidth)
 * mixed with a uniform prior of one observation's weight, so no cell has zero mass.
 */
function parzen(xs: number[], grid: number): number[] {
  const n = xs.length;
  const mean = xs.reduce((a, x) => a + x, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / Math.max(1, n - 1));
  const h = Math.max(1 / grid, 1.059 * (sd || 0.1) * n ** -0.2);
  const mass = new Array<number>(grid).fill(0);
  for (let g = 0; g < grid; g++) {
    const c = (g + 0.5) / grid;
    let s = 0;
    for (const x of xs) s += Math.exp(-0.5 * ((c - x) / h) ** 2);
    mass[g] = s;
  }
  const kernelTotal = mass.reduce((a, b) => a + b, 0);
  return mass.map((m) => ((kernelTotal > 0 ? (m / kernelTotal) * n : 0) + 1 / grid) / (n + 1));
}
