/**
 * Pruners decide from a trial's intermediate values whether to stop it early: median/percentile
 * (Optuna's PercentilePruner), successive halving (ASHA) and Hyperband, with Optuna's defaults.
 * They read incrementally maintained statistics ({@link PrunerStats}), never the stored trials.
 */
import { crc32 } from '../rng.js';
import type { Direction } from '../types.js';

/** Sorted insert into a plain array. */
export function insertSorted(arr: number[], v: number): void {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  arr.splice(lo, 0, v);
}

/** numpy's default (linear) percentile of a sorted array. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** What the study keeps up to date for its pruner. */
export class PrunerStats {
  /** Number of COMPLETE trials. */
  complete = 0;
  /** The largest last step of a COMPLETE trial. */
  maxCompleteStep: number | undefined;
  /** step → values of COMPLETE trials at that step (sorted, NaN excluded) and how many reported it. */
  readonly byStep = new Map<number, { sorted: number[]; count: number }>();
  /** `${bracket}:${rung}` → values recorded at that rung by any trial, sorted. */
  readonly rungs = new Map<string, number[]>();
  /** Persisted pruner state (auto-derived resources), saved by the study when it changes. */
  state: Record<string, number> = {};
  stateChanged = false;

  addComplete(steps: readonly number[], values: readonly number[]): void {
    this.complete++;
    const seen = new Map<number, number>();
    for (let i = 0; i < steps.length; i++) seen.set(steps[i]!, values[i]!);
    for (const [step, v] of seen) {
      let e = this.byStep.get(step);
      if (!e) this.byStep.set(step, (e = { sorted: [], count: 0 }));
      e.count++;
      if (!Number.isNaN(v)) insertSorted(e.sorted, v);
      if (this.maxCompleteStep === undefined || step > this.maxCompleteStep) this.maxCompleteStep = step;
    }
  }

  addRung(bracket: number, rung: number, value: number): number[] {
    const k = `${bracket}:${rung}`;
    let arr = this.rungs.get(k);
    if (!arr) this.rungs.set(k, (arr = []));
    insertSorted(arr, value);
    return arr;
  }

  setState(key: string, value: number): void {
    if (this.state[key] === value) return;
    this.state[key] = value;
    this.stateChanged = true;
  }
}

/** The live trial as a pruner sees it; `rungs` and `bracket` are persisted with the trial. */
export interface PrunableTrial {
  readonly number: number;
  readonly steps: readonly number[];
  readonly values: readonly number[];
  rungs: number[];
  bracket?: number;
}

export interface PrunerContext {
  readonly studyName: string;
  readonly direction: Direction;
  readonly stats: PrunerStats;
}

export interface Pruner {
  readonly type: string;
  /** Should the trial stop now, after its latest report? */
  prune(ctx: PrunerContext, trial: PrunableTrial): boolean;
}

function lastReport(t: PrunableTrial): { step: number; value: number } | undefined {
  if (t.steps.length === 0) return undefined;
  let step = -Infinity;
  let value = NaN;
  for (let i = 0; i < t.steps.length; i++) {
    if (t.steps[i]! >= step) {
      step = t.steps[i]!;
      value = t.values[i]!;
    }
  }
  return { step, value };
}

export class NopPruner implements Pruner {
  readonly type = 'none';
  prune(): boolean {
    return false;
  }
}

export interface PercentileOptions {
  /** Keep trials in the best `percentile` percent at the same step. @default 50 */
  percentile: number;
  /** No pruning until this many trials completed. @default 5 */
  startupTrials: number;
  /** No pruning before this step. @default 0 */
  warmupSteps: number;
  /** Check every this many steps after the warmup. @default 1 */
  intervalSteps: number;
  /** Completed trials that must have reported the step. @default 1 */
  minTrials: number;
}

/** Optuna's PercentilePruner; with percentile 50 it is the MedianPruner. */
export class PercentilePruner implements Pruner {
  readonly type: string;
  readonly o: PercentileOptions;

  constructor(o: Partial<PercentileOptions> = {}, type = 'percentile') {
    this.o = { percentile: 50, startupTrials: 5, warmupSteps: 0, intervalSteps: 1, minTrials: 1, ...o };
    this.type = type;
  }

  prune(ctx: PrunerContext, t: PrunableTrial): boolean {
    const { stats } = ctx;
    if (stats.complete === 0 || stats.complete < this.o.startupTrials) return false;
    const last = lastReport(t);
    if (!last) return false;
    const step = last.step;
    if (step < this.o.warmupSteps) return false;
    const nearestLower = Math.floor((step - this.o.warmupSteps) / this.o.intervalSteps) * this.o.intervalSteps + this.o.warmupSteps;
    let secondLast = -1;
    for (const s of t.steps) if (s > secondLast && s !== step) secondLast = s;
    if (!(secondLast < nearestLower)) return false;
    const max = ctx.direction === 'maximize';
    let best = NaN;
    for (const v of t.values) {
      if (Number.isNaN(v)) continue;
      if (Number.isNaN(best) || (max ? v > best : v < best)) best = v;
    }
    if (Number.isNaN(best)) return true;
    const at = stats.byStep.get(step);
    if (!at || at.count < this.o.minTrials) return false;
    const p = percentileOfSorted(at.sorted, max ? 100 - this.o.percentile : this.o.percentile);
    if (Number.isNaN(p)) return false;
    return max ? best < p : best > p;
  }
}

export interface SuccessiveHalvingOptions {
  /** Steps before the first rung; 'auto' = (last step of the first completed trials) / 100. @default 'auto' */
  minResource: number | 'auto';
  /** @default 4 */
  reductionFactor: number;
  /** @default 0 */
  minEarlyStoppingRate: number;
  /** Trials a rung needs before it promotes anyone. @default 0 */
  bootstrapCount: number;
}

/** Asynchronous successive halving (Li et al. 2018), as Optuna's SuccessiveHalvingPruner. */
export class SuccessiveHalvingPruner implements Pruner {
  readonly type = 'successive-halving';
  readonly o: SuccessiveHalvingOptions;

  constructor(o: Partial<SuccessiveHalvingOptions> = {}, private readonly bracket = 0, private readonly stateKey = 'shMinResource') {
    this.o = { minResource: 'auto', reductionFactor: 4, minEarlyStoppingRate: 0, bootstrapCount: 0, ...o };
  }

  prune(ctx: PrunerContext, t: PrunableTrial): boolean {
    const last = lastReport(t);
    if (!last) return false;
    const { step, value } = last;
    let rung = t.rungs.length;
    for (;;) {
      let minResource = this.o.minResource === 'auto' ? ctx.stats.state[this.stateKey] : this.o.minResource;
      if (minResource === undefined) {
        if (ctx.stats.maxCompleteStep === undefined) return false;
        minResource = Math.max(Math.floor(ctx.stats.maxCompleteStep / 100), 1);
        ctx.stats.setState(this.stateKey, minResource);
      }
      const promotion = minResource * this.o.reductionFactor ** (this.o.minEarlyStoppingRate + rung);
      if (step < promotion) return false;
      if (Number.isNaN(value)) return true;
      t.rungs.push(value);
      t.bracket = this.bracket;
      const competing = ctx.stats.addRung(this.bracket, rung, value);
      if (competing.length <= this.o.bootstrapCount) return true;
      let idx = Math.floor(competing.length / this.o.reductionFactor) - 1;
      if (idx === -1) idx = 0;
      const promotable = ctx.direction === 'maximize' ? value >= competing[competing.length - 1 - idx]! : value <= competing[idx]!;
      if (!promotable) return true;
      rung++;
    }
  }
}

export interface HyperbandOptions {
  /** @default 1 */
  minResource: number;
  /** 'auto' = last step of the first completed trial + 1. @default 'auto' */
  maxResource: number | 'auto';
  /** @default 3 */
  reductionFactor: number;
  /** @default 0 */
  bootstrapCount: number;
}

/** Hyperband (Li et al. 2018) over successive-halving brackets, as Optuna's HyperbandPruner. */
export class HyperbandPruner implements Pruner {
  readonly type = 'hyperband';
  readonly o: HyperbandOptions;
  private brackets?: { budgets: number[]; total: number; pruners: SuccessiveHalvingPruner[] };

  constructor(o: Partial<HyperbandOptions> = {}) {
    this.o = { minResource: 1, maxResource: 'auto', reductionFactor: 3, bootstrapCount: 0, ...o };
  }

  private init(ctx: PrunerContext): boolean {
    if (this.brackets) return true;
    let max = this.o.maxResource === 'auto' ? ctx.stats.state.hbMaxResource : this.o.maxResource;
    if (max === undefined) {
      if (ctx.stats.maxCompleteStep === undefined) return false;
      max = ctx.stats.maxCompleteStep + 1;
      ctx.stats.setState('hbMaxResource', max);
    }
    const n = Math.floor(Math.log(max / this.o.minResource) / Math.log(this.o.reductionFactor)) + 1;
    const budgets: number[] = [];
    const pruners: SuccessiveHalvingPruner[] = [];
    for (let b = 0; b < n; b++) {
      const s = n - 1 - b;
      budgets.push(Math.ceil((n * this.o.reductionFactor ** s) / (s + 1)));
      pruners.push(
        new SuccessiveHalvingPruner(
          { minResource: this.o.minResource, reductionFactor: this.o.reductionFactor, minEarlyStoppingRate: b, bootstrapCount: this.o.bootstrapCount },
          b,
        ),
      );
    }
    this.brackets = { budgets, total: budgets.reduce((a, x) => a + x, 0), pruners };
    return true;
  }

  /** The bracket of a trial: crc32("<study>_<number>") over the brackets' budgets, as Optuna. */
  bracketOf(studyName: string, number: number): number {
    const b = this.brackets!;
    let n = crc32(`${studyName}_${number}`) % b.total;
    for (let i = 0; i < b.budgets.length; i++) {
      n -= b.budgets[i]!;
      if (n < 0) return i;
    }
    return b.budgets.length - 1;
  }

  prune(ctx: PrunerContext, t: PrunableTrial): boolean {
    if (!this.init(ctx)) return false;
    const bracket = this.bracketOf(ctx.studyName, t.number);
    return this.brackets!.pruners[bracket]!.prune(ctx, t);
  }
}
