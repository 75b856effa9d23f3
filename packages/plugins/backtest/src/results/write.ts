/**
 * Writes a finished backtest's results (each file atomically, under the task's artifact
 * directory) and builds the task result: metrics for HPO objectives, a headline for
 * `runner status` and `runner tasks`, the file paths.
 */
import { computeMetrics, type Metrics } from '../engine/metrics.js';
import type { Engine } from '../engine/engine.js';
import type { Fill, Trade } from '../engine/types.js';
import type { TaskContext } from '@runner/core';
import type { BacktestOptions } from '../schema.js';
import type { Prepared } from '../run.js';
import { reportHtml } from './report.js';
import { equityArrow, equityCsv, equityTable, fillsCsv, tradesArrow, tradesCsv } from './tables.js';

export interface BacktestResult {
  symbol: string;
  series: string;
  strategy: string;
  period: { start: string; end: string; bars: number; describe: string; inSample: boolean };
  /** Numeric metrics only (undefined ones left out): what an HPO objective reads. */
  metrics: Record<string, number>;
  /** A one-line summary, shown by `runner status` and `runner tasks`. */
  headline: string;
  files: Record<string, string>;
  fills: number;
  trades: number;
  /** Bars done by an earlier attempt (0 when this one started from the first bar). */
  resumedAtBar: number;
  checkpoints: number;
  /** Checkpoints of this attempt: how many, ms spent taking them (snapshot, journal, encode), ms waiting for the store to commit them. */
  checkpointing: { saves: number; saveMs: number; waitMs: number };
  barsPerSecond: number;
  /** Seconds reading and checking the series, resolving the strategy (and predicting), choosing the period. */
  prepareSeconds: number;
  /** Seconds in the bar loop (checkpoints included). */
  loopSeconds: number;
  /** Seconds of the whole attempt, results included. */
  seconds: number;
  model?: { task: string; features: string[]; predictions: number; dataEnd: string; estimated: boolean };
  /** The HPO parameters applied, and the task they came from. */
  bestParams?: Record<string, unknown>;
  bestParamsFrom?: string;
}

export interface RunOutcome {
  engine: Engine<any, any>;
  equity: Float64Array;
  position: Float64Array;
  trades: Trade[];
  fills: Fill[];
  resumedAt: number;
  saves: number;
  saveMs: number;
  waitMs: number;
  loopSeconds: number;
  prepareSeconds: number;
  seconds: number;
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`);

export function headline(m: Metrics): string {
  return `return ${pct(m.totalReturn)} (b&h ${pct(m.buyHoldReturn)}) sharpe ${m.sharpe === null ? 'n/a' : m.sharpe.toFixed(2)} maxDD ${(m.maxDrawdown * 100).toFixed(1)}% trades ${m.trades}`;
}

export async function writeResults(ctx: TaskContext<BacktestOptions>, p: Prepared, r: RunOutcome): Promise<BacktestResult> {
  const o = ctx.options;
  const { from, to } = p.period;
  const time = p.series.time.subarray(from, to);
  const close = p.series.close.subarray(from, to);
  const metrics = computeMetrics({ startEquity: o.cash, time, equity: r.equity, position: r.position, close, trades: r.trades, commission: r.engine.commissionPaid });
  // Flat equity (no trades) has no volatility: report a Sharpe/Sortino of 0 rather than none.
  if (metrics.sharpe === null && metrics.totalReturn === 0) metrics.sharpe = 0;
  if (metrics.sortino === null && metrics.totalReturn === 0) metrics.sortino = 0;
  const table = equityTable(time, close, r.equity, r.position, o.cash);
  const files: Record<string, string> = {};
  const put = async (name: string, data: string | Uint8Array) => {
    await ctx.writeArtifact(name, data);
    files[name] = `${ctx.artifactDir}/${name}`;
  };
  const model = p.model ? { task: p.model.trainTask, features: p.model.features, predictions: p.model.predictions, dataEnd: new Date(p.model.dataEnd).toISOString(), estimated: p.model.estimated } : undefined;
  const period = { start: new Date(time[0]!).toISOString(), end: new Date(time[time.length - 1]!).toISOString(), bars: to - from, describe: p.period.describe, inSample: p.period.inSample };
  await put('metrics.json', JSON.stringify({ ...metrics, strategy: p.strategy.label, period, ...(model ? { model } : {}) }, null, 2) + '\n');
  if (o.outputs.csv) {
    await put('trades.csv', tradesCsv(r.trades));
    await put('fills.csv', fillsCsv(r.fills));
    await put('equity.csv', equityCsv(table));
  }
  if (o.outputs.arrow) {
    await put('trades.arrow', await tradesArrow(r.trades));
    await put('equity.arrow', await equityArrow(table));
  }
  if (o.outputs.html) {
    const c = o.commission;
    const settings: [string, string][] = [
      ['Series', p.series.file],
      ['Strategy', p.strategy.label],
      ['Period', `${period.start} to ${period.end}, ${period.bars} bars (${period.describe})`],
      ['Cash', String(o.cash)],
      ['Commission', 'perUnit' in c ? `${c.perUnit} per unit` : 'pct' in c ? `${c.pct}% of notional` : `${c.perOrder} per order`],
      ['Slippage', `${o.slippage.bps} bps`],
      ['Sizing', 'units' in o.sizing ? `${o.sizing.units} units` : `${o.sizing.fraction} of equity`],
      ['Shorts', o.allowShort ? 'allowed' : 'no'],
      ['Fills', 'next bar: market orders at its open'],
    ];
    if (model) settings.push(['Model', `${model.task}, features ${model.features.join(', ')}; training data end ${model.dataEnd}`]);
    await put(
      'report.html',
      reportHtml({ title: `Backtest ${p.series.symbol || ctx.task.id}: ${p.strategy.label}`, subtitle: `${ctx.task.id} · ${period.start} to ${period.end}`, inSample: p.period.inSample, settings, metrics, table, trades: r.trades }),
    );
  }
  const numeric: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) if (typeof v === 'number' && Number.isFinite(v)) numeric[k] = v;
  const bars = to - from - r.resumedAt;
  return {
    symbol: p.series.symbol,
    series: p.series.file,
    strategy: p.strategy.label,
    period,
    metrics: numeric,
    headline: headline(metrics),
    files,
    fills: r.fills.length,
    trades: r.trades.length,
    resumedAtBar: r.resumedAt,
    checkpoints: r.saves,
    checkpointing: { saves: r.saves, saveMs: Math.round(r.saveMs), waitMs: Math.round(r.waitMs) },
    barsPerSecond: r.loopSeconds > 0 ? Math.round(bars / r.loopSeconds) : 0,
    prepareSeconds: Math.round(r.prepareSeconds * 1e4) / 1e4,
    loopSeconds: Math.round(r.loopSeconds * 1e4) / 1e4,
    seconds: Math.round(r.seconds * 1e3) / 1e3,
    ...(model ? { model } : {}),
  };
}
