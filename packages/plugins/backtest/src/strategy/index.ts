/**
 * `@runner/plugin-backtest/strategy`: how the backtester turns `options.strategy` and
 * `options.period` into a strategy, a model's per-bar signal and the bars to trade, for other
 * plugins (the paper trader) that must trade exactly as the backtester does.
 */
export { resolveStrategy, type ResolvedStrategy } from './resolve.js';
export { modelSignal, trainUpstream, type ModelSignal } from './model-signal.js';
export { resolvePeriod, type Period } from '../period.js';
export { loadSeries, type LoadedSeries } from '../data/series.js';
