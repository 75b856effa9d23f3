// The benchmark's custom strategy: SMA(10)/SMA(50) cross through defineStrategy, written the way
// a user would (plain float sums over a ring; no integer ticks), long-only.
import { defineStrategy } from '@runner/plugin-backtest/engine';

export default defineStrategy({
  name: 'bench-sma',
  warmup: (p) => p.slow ?? 50,
  init: (p) => ({ fast: p.fast ?? 10, slow: p.slow ?? 50, ring: new Float64Array(p.slow ?? 50), i: 0, n: 0, sf: 0, ss: 0, last: 0 }),
  onBar(s, bar, ctx) {
    const c = bar.close;
    const k = s.i;
    if (s.n >= s.slow) s.ss -= s.ring[k];
    if (s.n >= s.fast) s.sf -= s.ring[(k + s.slow - s.fast) % s.slow];
    s.ring[k] = c;
    s.ss += c;
    s.sf += c;
    s.i = k + 1 === s.slow ? 0 : k + 1;
    if (s.n < s.slow) s.n++;
    if (s.n < s.slow) return;
    const d = s.sf * s.slow - s.ss * s.fast;
    if (d > 0) {
      if (s.last < 0) ctx.enterLong('cross-up');
      s.last = 1;
    } else if (d < 0) {
      if (s.last > 0) ctx.exit('cross-down');
      s.last = -1;
    }
  },
});
