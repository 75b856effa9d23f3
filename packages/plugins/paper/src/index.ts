/**
 * The paper plugin: a long-running trading loop over replayed or live bars, driving the
 * backtester's engine one bar at a time. Each bar is one durable LMDB transaction (decision,
 * fills, cash, position, trade log, last-bar marker), order ids are deterministic, and orders go
 * through a broker interface. See docs/paper.md.
 *
 * @example
 * ```yaml
 * - id: paper
 *   plugin: paper
 *   needs: [download]
 *   per: [symbol]
 *   options:
 *     feed: { type: replay, from: download, speed: 100 }
 *     strategy: { type: sma-cross, fast: 10, slow: 50 }
 *     cash: 10000
 *     commission: { pct: 0.1 }
 *     until: { bars: 5000 }
 * ```
 */
import { definePlugin } from '@runner/core';
import backtest from '@runner/plugin-backtest';
import { optionsSchema, type PaperOptions } from './schema.js';
import type { PaperResult } from './result.js';

export type { PaperOptions, FeedOptions, Until } from './schema.js';
export type { PaperResult } from './result.js';
export type { Broker, BrokerOrder, BrokerFill, BrokerAccount, OrderStatus } from './broker/types.js';
export type { Bar, Feed, FeedHealth } from './feed/types.js';

export default definePlugin<PaperOptions, PaperResult>({
  name: 'paper',
  version: '1.0.0',
  description: 'Paper trading over replayed or live (HTTP poll) bars with the backtester\'s engine; one durable transaction per bar, deterministic order ids, a broker seam.',
  schema: optionsSchema,
  // Raising `until` on a finished trader reopens it and it continues after its last bar.
  resumeSafe: ['until'],
  // How fast it replays, how it polls and how durably it commits never change what it trades.
  operational: ['durability', 'report', 'feed.speed', 'feed.intervalMs', 'feed.timeoutMs', 'feed.stallMs', 'feed.retry'],
  // The backtester's own checks of the strategy and sizing forms (fast < slow, lower < upper, ...).
  validate(o) {
    const issues = backtest.validate?.({ strategy: o.strategy, sizing: o.sizing, period: o.period, allowInSample: o.allowInSample, checkpoint: {} } as never) ?? [];
    return issues.filter((i) => i.path[0] === 'strategy' || i.path[0] === 'sizing' || i.path[0] === 'period');
  },
  async run(ctx) {
    const { runPaper } = await import('./loop/run.js');
    return runPaper(ctx);
  },
  // `runner report` and the dashboard: the backtester's equity and drawdown sections.
  async report(input) {
    const { equityReport } = await import('@runner/plugin-backtest/report');
    return equityReport(input, {
      label: 'Paper',
      equityFile: (r) => (r as { files?: { equity?: { arrow?: string } } }).files?.equity?.arrow,
      metrics: [
        { key: 'returnPct', title: 'return %' },
        { key: 'pnl', title: 'P&L' },
        { key: 'roundTrips', title: 'trades' },
        { key: 'fills', title: 'fills' },
        { key: 'bars', title: 'bars' },
      ],
    });
  },
});
