/**
 * The rsi strategy's indicator is Wilder's RSI as the trainer defines it (features.ts `rsi`),
 * computed here by hand on prices; the strategy computes it on integer-tick changes, so the two
 * agree to float rounding. Its trades follow the thresholds.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, rsiStrategy, type Fill, type RsiState } from '../src/engine/index.js';
import { gridSeries } from './helpers.js';

function wilder(close: Float64Array, n: number): Float64Array {
  const out = new Float64Array(close.length).fill(NaN);
  let gain = 0;
  let loss = 0;
  for (let t = 1; t < close.length; t++) {
    const d = close[t]! - close[t - 1]!;
    const g = Math.max(d, 0);
    const l = Math.max(-d, 0);
    if (t <= n) {
      gain += g / n;
      loss += l / n;
      if (t < n) continue;
    } else {
      gain = (gain * (n - 1) + g) / n;
      loss = (loss * (n - 1) + l) / n;
    }
    out[t] = loss === 0 ? 100 : 100 - 100 / (1 + gain / loss);
  }
  return out;
}

describe('rsi strategy', () => {
  it("follows Wilder's RSI and its thresholds", () => {
    const c = gridSeries(20_000, 17, 15);
    const ref = wilder(c.close, 14);
    const fills: Fill[] = [];
    const e = createEngine({ config: { cash: 1e6, sizing: { units: 1 } }, strategy: rsiStrategy, params: { period: 14, lower: 30, upper: 70 }, info: { scale: 1e4 }, hooks: { onFill: (f) => fills.push(f) } });
    let compared = 0;
    for (let i = 0; i < c.close.length; i++) {
      e.run(c, i, i + 1);
      const s = e.strategyState as RsiState;
      if (s.count < 14) continue;
      const r = s.loss === 0 ? 100 : 100 - 100 / (1 + s.gain / s.loss);
      expect(Math.abs(r - ref[i]!)).toBeLessThan(1e-6);
      compared++;
    }
    expect(compared).toBe(c.close.length - 14);
    expect(fills.length).toBeGreaterThan(20);
    // Every entry follows a bar whose RSI was below 30; every exit one above 70.
    for (const f of fills) expect(f.side === 'buy' ? ref[f.bar - 1]! < 30 : ref[f.bar - 1]! > 70).toBe(true);
  });
});
