/**
 * The backtest engine, shared by the backtester and the paper trader: portfolio, orders (market,
 * limit, stop), next-bar fills with slippage and commission, long and short, sizing, the strategy
 * contract and the built-in strategies, and the metrics. See ENGINE.md in this package.
 *
 * @example
 * ```ts
 * import { createEngine, smaCross } from '@runner/plugin-backtest/engine';
 * const engine = createEngine({
 *   config: { cash: 100_000, commission: { perUnit: 0.1 }, sizing: { units: 10 }, idPrefix: 'symbol=BTC' },
 *   strategy: smaCross,
 *   params: { fast: 10, slow: 50 },
 *   hooks: { onFill: (f) => journal.push(f) },
 * });
 * for (const bar of bars) engine.onBar(bar);   // or engine.run(columns, 0, rows)
 * const state = engine.snapshot();              // plain data; createEngine({ ..., state }) resumes
 * ```
 */
export { createEngine, Engine, ENGINE_STATE_FORMAT, type EngineState, type OpenTrade, type CreateEngineOptions } from './engine.js';
export { fillPrice } from './fills.js';
export { RoundTrips } from './round-trips.js';
export { defineStrategy, isStrategyDefinition, type StrategyContext, type StrategyDefinition, type StrategyInfo } from './strategy.js';
export { BUILTIN_STRATEGIES, builtinStrategy, smaCross, rsiStrategy, modelStrategy } from './strategies/index.js';
export type { SmaCrossParams, SmaCrossState, RsiParams, RsiState, ModelParams, ModelState } from './strategies/index.js';
export { computeMetrics, type Metrics, type MetricsInput } from './metrics.js';
export { commissionFn, slipped } from './costs.js';
export { inferScale, toTicks, tickOf } from './ticks.js';
export type * from './types.js';
export { isBacktestError, BacktestError, type BacktestErrorCode } from '../errors.js';
