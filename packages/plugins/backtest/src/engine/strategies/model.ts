import { configErrorFor } from './common.js';
import { defineStrategy } from '../strategy.js';

export interface ModelParams {
  /** Enter long when the prediction is above this. @default 0 */
  enterAbove?: number;
  /** Exit a long when the prediction is below this. @default 0 */
  exitBelow?: number;
  /** Enter short when the prediction is below this (needs allowShort). @default none */
  shortBelow?: number;
  /** Exit a short when the prediction is above this. @default 0 */
  coverAbove?: number;
}

export interface ModelState {
  enterAbove: number;
  exitBelow: number;
  shortBelow: number;
  coverAbove: number;
}

/**
 * Trades a model's predictions, carried to the engine as each bar's `signal` (NaN: no prediction,
 * do nothing). The backtester computes them in batches from the features the trainer used; the
 * paper trader computes one per bar. Comparisons are on the stored float32-rounded predictions,
 * which do not depend on where a run resumed.
 */
export const modelStrategy = defineStrategy<ModelParams, ModelState>({
  name: 'model',
  init(p) {
    const s = { enterAbove: p.enterAbove ?? 0, exitBelow: p.exitBelow ?? 0, shortBelow: p.shortBelow ?? -Infinity, coverAbove: p.coverAbove ?? 0 };
    if (s.exitBelow > s.enterAbove) throw configErrorFor('model', `exitBelow (${s.exitBelow}) is above enterAbove (${s.enterAbove})`, 'Set exitBelow <= enterAbove');
    return s;
  },
  onBar(s, bar, ctx) {
    const x = bar.signal;
    if (x !== x) return;
    if (x > s.enterAbove) ctx.enterLong('model-long');
    else if (x < s.shortBelow) ctx.enterShort('model-short');
    else if (ctx.position > 0 && x < s.exitBelow) ctx.exit('model-exit');
    else if (ctx.position < 0 && x > s.coverAbove) ctx.exit('model-cover');
  },
});
