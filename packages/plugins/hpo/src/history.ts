/**
 * What the samplers learn from: one row per finished trial (and, for warm starts, per trial of
 * the previous cycle's study), kept in typed columns in trial order and appended as trials
 * finish, so that asking for the next trial never walks the stored trials again.
 */
import type { Distribution } from './space.js';

/** Rank key of a finished trial: complete trials first (by value), then pruned ones (deepest first). */
export const COMPLETE_STEP_KEY = -Infinity;

export class History {
  /** Parameter names, one column each. */
  readonly names: string[] = [];
  readonly dists: Distribution[] = [];
  private readonly index = new Map<string, number>();
  private cap = 64;
  /** Rows in use. */
  n = 0;
  /** Internal parameter values per column (NaN where the trial lacks the parameter). */
  cols: Float64Array[] = [];
  /** The objective, signed so that lower is better (the last intermediate value for pruned trials). */
  score = new Float64Array(this.cap);
  /** -Infinity for complete trials, -(last step) for pruned ones, 1 for pruned without steps. */
  stepKey = new Float64Array(this.cap);
  /** Trial number (negative for warm-start rows, which come first). */
  order = new Float64Array(this.cap);
  /** Per column: its non-NaN rows ordered by (value, row), kept up to date as rows arrive. */
  sorted: Int32Array[] = [];
  sortedLen: number[] = [];
  /** Changes with every added row (samplers cache per-ask work on it). */
  version = 0;

  /** The column of `name`, created (all NaN) on first use. */
  column(name: string, dist: Distribution): number {
    let c = this.index.get(name);
    if (c === undefined) {
      c = this.names.length;
      this.index.set(name, c);
      this.names.push(name);
      this.dists.push(dist);
      this.cols.push(new Float64Array(this.cap).fill(NaN));
      this.sorted.push(new Int32Array(this.cap));
      this.sortedLen.push(0);
    }
    return c;
  }

  columnOf(name: string): number | undefined {
    return this.index.get(name);
  }

  /** Inserts a row keeping trial order (an append unless trials finish out of order). */
  add(order: number, values: ReadonlyMap<number, number> | ((col: number) => number), score: number, stepKey: number): void {
    if (this.n === this.cap) this.grow();
    let at = this.n;
    while (at > 0 && this.order[at - 1]! > order) at--;
    if (at < this.n) {
      for (const col of this.cols) col.copyWithin(at + 1, at, this.n);
      this.score.copyWithin(at + 1, at, this.n);
      this.stepKey.copyWithin(at + 1, at, this.n);
      this.order.copyWithin(at + 1, at, this.n);
      // Rows at and after `at` moved down by one.
      for (let c = 0; c < this.sorted.length; c++) {
        const srt = this.sorted[c]!;
        for (let k = 0; k < this.sortedLen[c]!; k++) if (srt[k]! >= at) srt[k]!++;
      }
    }
    for (let c = 0; c < this.cols.length; c++) {
      const raw = typeof values === 'function' ? values(c) : values.get(c);
      const v = raw === undefined ? NaN : raw;
      const col = this.cols[c]!;
      col[at] = v;
      if (Number.isNaN(v)) continue;
      // Insert `at` into the column's order, after equal values of earlier rows.
      const srt = this.sorted[c]!;
      const len = this.sortedLen[c]!;
      let lo = 0;
      let hi = len;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const r = srt[mid]!;
        if (col[r]! < v || (col[r] === v && r < at)) lo = mid + 1;
        else hi = mid;
      }
      srt.copyWithin(lo + 1, lo, len);
      srt[lo] = at;
      this.sortedLen[c] = len + 1;
    }
    this.score[at] = score;
    this.stepKey[at] = stepKey;
    this.order[at] = order;
    this.n++;
    this.version++;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const g = (a: Float64Array, fill = 0) => {
      const b = new Float64Array(cap);
      if (fill !== 0) b.fill(fill);
      b.set(a);
      return b;
    };
    this.cols = this.cols.map((c) => g(c, NaN));
    this.sorted = this.sorted.map((a) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    });
    this.score = g(this.score);
    this.stepKey = g(this.stepKey);
    this.order = g(this.order);
    this.cap = cap;
  }
}
