/**
 * The backtest plugin: steps a strategy bar by bar over a stored series — a rule (sma-cross,
 * rsi), a model trained upstream, or a custom module — with next-bar fills, costs and sizing;
 * refuses to judge a model on the bars it was trained on; checkpoints with bit-identical resume;
 * writes trades, equity, metrics and an HTML report. See docs/backtest.md. The engine is
 * `@runner/plugin-backtest/engine` (shared with the paper trader).
 *
 * @example
 * ```yaml
 * - id: backtest
 *   plugin: backtest
 *   needs: [download]
 *   options:
 *     strategy: { type: sma-cross, fast: 10, slow: 50 }
 *     commission: { perUnit: 0.1 }
 *     sizing: { units: 10 }
 * ```
 */
import { definePlugin } from '@runner/core';
import { optionsSchema, validateOptions, type BacktestOptions } from './schema.js';
import type { BacktestResult } from './results/write.js';

export type { BacktestOptions, StrategyOptions } from './schema.js';
export type { BacktestResult } from './results/write.js';

export default definePlugin<BacktestOptions, BacktestResult>({
  name: 'backtest',
  version: '1.0.0',
  description: 'Backtests a rule, model or custom strategy over a stored series, with next-bar fills, costs, no look-ahead, checkpoints and bit-identical resume; writes trades, equity, metrics and an HTML report.',
  schema: optionsSchema,
  // When checkpoints are taken and which files are written never change the fills or the equity.
  operational: ['checkpoint', 'outputs'],
  validate: validateOptions,
  async run(ctx) {
    const { runBacktest } = await import('./run.js');
    return runBacktest(ctx);
  },
  // `runner report` and the dashboard: equity against buy-and-hold and drawdown per cell.
  async report(input) {
    const { equityReport, BACKTEST_REPORT } = await import('./results/run-report.js');
    return equityReport(input, BACKTEST_REPORT);
  },
});
