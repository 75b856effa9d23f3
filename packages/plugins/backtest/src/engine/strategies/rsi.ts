import { configErrorFor } from './common.js';
import { defineStrategy } from '../strategy.js';

export interface RsiParams {
  /** Wilder period in bars. @default 14 */
  period?: number;
  /** Enter long when RSI falls below this. @default 30 */
  lower?: number;
  /** Exit (or go short, with short: true) when RSI rises above this. @default 70 */
  upper?: number;
  /** @default inferred from the series, else 1e4 */
  scale?: number;
  /** @default false */
  short?: boolean;
}

export interface RsiState {
  period: number;
  lower: number;
  upper: number;
  scale: number;
  short: boolean;
  /** Previous close in ticks, NaN before the first bar. */
  prev: number;
  count: number;
  gain: number;
  loss: number;
}

/**
 * RSI threshold strategy: Wilder's RSI on close-to-close changes in integer ticks (exact), with
 * the averages updated in one fixed order of arithmetic (avg × (n − 1) + x) / n, the same as the
 * trainer's `rsi` feature. The state holds the running averages, so a resumed run continues with
 * the identical floats.
 */
export const rsiStrategy = defineStrategy<RsiParams, RsiState>({
  name: 'rsi',
  warmup: (p) => (p.period ?? 14) + 1,
  init(p, info) {
    const period = p.period ?? 14;
    const lower = p.lower ?? 30;
    const upper = p.upper ?? 70;
    if (!(Number.isInteger(period) && period >= 2)) throw configErrorFor('rsi', `period must be an integer >= 2 (got ${period})`, 'Set e.g. period: 14');
    if (!(lower >= 0 && lower < upper && upper <= 100)) throw configErrorFor('rsi', `need 0 <= lower < upper <= 100 (got lower ${lower}, upper ${upper})`, 'Set e.g. lower: 30, upper: 70');
    return { period, lower, upper, scale: p.scale ?? info.scale ?? 1e4, short: p.short ?? false, prev: NaN, count: 0, gain: 0, loss: 0 };
  },
  onBar(s, bar, ctx) {
    const t = Math.round(bar.close * s.scale);
    const prev = s.prev;
    s.prev = t;
    if (prev !== prev) return;
    const d = t - prev;
    const g = d > 0 ? d : 0;
    const l = d < 0 ? -d : 0;
    const n = s.period;
    if (s.count < n) {
      s.gain += g;
      s.loss += l;
      s.count++;
      if (s.count < n) return;
      s.gain /= n;
      s.loss /= n;
    } else {
      s.gain = (s.gain * (n - 1) + g) / n;
      s.loss = (s.loss * (n - 1) + l) / n;
    }
    const r = s.loss === 0 ? 100 : 100 - 100 / (1 + s.gain / s.loss);
    if (r < s.lower) ctx.enterLong('rsi-low');
    else if (r > s.upper) {
      if (s.short) ctx.enterShort('rsi-high');
      else if (ctx.position > 0) ctx.exit('rsi-high');
    }
  },
});
