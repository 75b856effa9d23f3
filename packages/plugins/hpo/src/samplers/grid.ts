import { HpoError } from '../errors.js';
import { Rng } from '../rng.js';
import { cardinality, canonical, toExternal, type Distribution, type Space } from '../space.js';
import type { Sampler, SamplingContext } from './types.js';

export interface GridOptions {
  /** Values per continuous parameter (log-spaced for log ranges). @default 5 */
  points: number;
  /** Discrete parameters with at most this many values are enumerated fully; larger ones get `points` values. @default 64 */
  maxValues: number;
  /** Seed of the visiting order. */
  seed: number;
}

const MAX_GRID = 1_000_000;

/** The values a parameter takes on the grid (internal representation). */
export function gridValues(d: Distribution, o: Pick<GridOptions, 'points' | 'maxValues'>): number[] {
  if (d.type === 'categorical') return d.choices.map((_, i) => i);
  const n = cardinality(d);
  if (n <= o.maxValues) {
    if (d.type === 'int' && d.log) return Array.from({ length: n }, (_, i) => d.low + i);
    const step = d.type === 'int' ? d.step : d.step!;
    if (n !== Infinity) return Array.from({ length: n }, (_, i) => toExternal(d, d.low + i * step) as number);
  }
  const k = Math.max(1, Math.min(o.points, n));
  if (k === 1) return [d.low];
  const out = new Set<number>();
  for (let i = 0; i < k; i++) {
    const t = i / (k - 1);
    const raw = d.log ? Math.exp(Math.log(d.low) + t * (Math.log(d.high) - Math.log(d.low))) : d.low + t * (d.high - d.low);
    out.add(toExternal(d, raw) as number);
  }
  return [...out];
}

/**
 * Visits every point of the grid once, in a seeded random order (as Optuna's GridSampler), and
 * reports itself exhausted when none is left. Points that a trial already holds (enqueued,
 * retried, warm-started) are skipped.
 */
export class GridSampler implements Sampler {
  readonly type = 'grid';
  private cursor = 0;
  private order?: Uint32Array;
  private key?: string;
  private values: number[][] = [];
  private names: string[] = [];

  constructor(private readonly options: GridOptions) {}

  saveState(): unknown {
    return { cursor: this.cursor };
  }

  loadState(state: unknown): void {
    const c = (state as { cursor?: unknown } | undefined)?.cursor;
    if (typeof c === 'number') this.cursor = c;
  }

  private prepare(ctx: SamplingContext, space: Space): void {
    const key = canonical(space);
    if (this.key === key) return;
    this.key = key;
    this.names = Object.keys(space).sort();
    this.values = this.names.map((n) => gridValues(space[n]!, this.options));
    const size = this.values.reduce((a, v) => a * v.length, 1);
    if (size > MAX_GRID) {
      throw Object.assign(new Error(`the grid has ${size} points (more than ${MAX_GRID}); lower sampler.gridPoints or use tpe/random`), { retryable: false });
    }
    const order = new Uint32Array(size);
    for (let i = 0; i < size; i++) order[i] = i;
    const rng = Rng.fromSeed(this.options.seed, `grid:${ctx.studyName}`);
    for (let i = size - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    this.order = order;
  }

  private point(index: number): Map<string, number> {
    const out = new Map<string, number>();
    let rest = index;
    for (let p = this.names.length - 1; p >= 0; p--) {
      const vals = this.values[p]!;
      out.set(this.names[p]!, vals[rest % vals.length]!);
      rest = Math.floor(rest / vals.length);
    }
    return out;
  }

  private visited(ctx: SamplingContext): Set<string> {
    const seen = new Set<string>();
    const h = ctx.history;
    const cols = this.names.map((n) => h.columnOf(n));
    for (let r = 0; r < h.n; r++) {
      if (h.order[r]! < 0) continue;
      seen.add(cols.map((c) => (c === undefined ? 'NaN' : String(h.cols[c]![r]))).join('|'));
    }
    for (const run of ctx.running) seen.add(this.names.map((n) => String(run.get(n) ?? NaN)).join('|'));
    return seen;
  }

  exhausted(ctx: SamplingContext, space: Space): boolean {
    this.prepare(ctx, space);
    const seen = this.visited(ctx);
    for (let i = this.cursor; i < this.order!.length; i++) {
      const p = this.point(this.order![i]!);
      if (!seen.has(this.names.map((n) => String(p.get(n))).join('|'))) return false;
    }
    return true;
  }

  sampleRelative(ctx: SamplingContext, space: Space): Map<string, number> {
    this.prepare(ctx, space);
    const seen = this.visited(ctx);
    while (this.cursor < this.order!.length) {
      const p = this.point(this.order![this.cursor++]!);
      if (!seen.has(this.names.map((n) => String(p.get(n))).join('|'))) return p;
    }
    throw new HpoError('HPO_GRID_EXHAUSTED', 'the grid is exhausted: every point has been tried');
  }

  sampleIndependent(_ctx: SamplingContext, name: string, _dist: Distribution): number {
    throw Object.assign(new Error(`the grid sampler needs the whole space up front, but "${name}" was suggested inside the objective`), {
      hint: 'Pass the space to study.ask(space) or createStudy({ space }), or use the tpe or random sampler.',
      retryable: false,
    });
  }
}
