import { configErrorFor, EXACT_LIMIT } from './common.js';
import { defineStrategy } from '../strategy.js';

export interface SmaCrossParams {
  /** Fast window in bars. @default 10 */
  fast?: number;
  /** Slow window in bars. @default 50 */
  slow?: number;
  /** Price scale for integer ticks (100 = cents). @default inferred from the series, else 1e4 */
  scale?: number;
  /** On a cross down, go short instead of flat (needs allowShort). @default false */
  short?: boolean;
}

export interface SmaCrossState {
  fast: number;
  slow: number;
  scale: number;
  short: boolean;
  /** The last `slow` closes in ticks, a ring. */
  ring: Float64Array;
  /** Next write position in the ring, and the position of the value leaving the fast window. Bars seen, capped at slow. */
  w: number;
  f: number;
  n: number;
  sumFast: number;
  sumSlow: number;
  /** Sign of (fast SMA − slow SMA) at the last bar where they differed; 0 before the first. */
  last: number;
  /** Largest |ticks| for which window sums times a window length stay below 2^53. */
  limit: number;
}

/**
 * Fast/slow simple moving average cross on closes. Sums are kept in integer ticks, and the
 * comparison fast/slow is done as sumFast × slow vs sumSlow × fast, exactly: an exact tie of the
 * two averages is seen as a tie (no signal), whatever order the sums were built in. A signal
 * needs a real cross: the first difference after the warm-up only sets the side.
 */
export const smaCross = defineStrategy<SmaCrossParams, SmaCrossState>({
  name: 'sma-cross',
  warmup: (p) => p.slow ?? 50,
  init(p, info) {
    const fast = p.fast ?? 10;
    const slow = p.slow ?? 50;
    if (!(Number.isInteger(fast) && Number.isInteger(slow) && fast >= 1 && fast < slow)) throw configErrorFor('sma-cross', `fast must be an integer >= 1 below slow (got fast ${fast}, slow ${slow})`, 'Set e.g. fast: 10, slow: 50');
    const scale = p.scale ?? info.scale ?? 1e4;
    return { fast, slow, scale, short: p.short ?? false, ring: new Float64Array(slow), w: 0, f: slow - fast, n: 0, sumFast: 0, sumSlow: 0, last: 0, limit: Math.floor(EXACT_LIMIT / (slow * slow)) };
  },
  onBar(s, bar, ctx) {
    const t = Math.round(bar.close * s.scale);
    // Every |tick| <= limit keeps |sums| <= slow × limit and their products below 2^53: exact.
    if (t > s.limit || t < -s.limit) throw configErrorFor('sma-cross', `price ${bar.close} × scale ${s.scale} × window² exceeds 2^53 at bar time ${bar.time}`, 'Set a coarser strategy.scale (e.g. 100 for cents)');
    const slow = s.slow;
    const ring = s.ring;
    const c = s.n;
    if (c >= slow) s.sumSlow -= ring[s.w]!;
    else s.n = c + 1;
    if (c >= s.fast) s.sumFast -= ring[s.f]!;
    ring[s.w] = t;
    s.sumSlow += t;
    s.sumFast += t;
    if (++s.w === slow) s.w = 0;
    if (++s.f === slow) s.f = 0;
    if (s.n < slow) return;
    const a = s.sumFast * slow;
    const b = s.sumSlow * s.fast;
    if (a > b) {
      if (s.last < 0) ctx.enterLong('cross-up');
      s.last = 1;
    } else if (a < b) {
      if (s.last > 0) {
        if (s.short) ctx.enterShort('cross-down');
        else ctx.exit('cross-down');
      }
      s.last = -1;
    }
  },
});
