/**
 * Performance metrics from an equity curve and a trade list. Per-bar returns are annualised with
 * the bar frequency of the data itself (bars per year = bars / years spanned), so minute and daily
 * series both come out in yearly units. Values that are not defined (no trades, no losses, a
 * single bar) are null in JSON, never Infinity or NaN.
 */
import type { Trade } from './types.js';

const YEAR_MS = 365.25 * 24 * 3600 * 1000;

export interface Metrics {
  bars: number;
  startTime: string | null;
  endTime: string | null;
  startEquity: number;
  endEquity: number;
  totalReturn: number | null;
  annualReturn: number | null;
  buyHoldReturn: number | null;
  sharpe: number | null;
  sortino: number | null;
  calmar: number | null;
  /** Largest peak-to-trough fall, as a fraction of the peak (0.25 = 25%). */
  maxDrawdown: number;
  /** Longest time under a previous peak, in bars and in milliseconds. */
  maxDrawdownBars: number;
  maxDrawdownMs: number;
  trades: number;
  winRate: number | null;
  profitFactor: number | null;
  /** Mean net P&L per trade. */
  expectancy: number | null;
  /** Fraction of bars with a position. */
  exposure: number | null;
  avgHoldingBars: number | null;
  avgHoldingMs: number | null;
  commission: number;
}

export interface MetricsInput {
  /** Equity before the first bar (the starting cash). */
  startEquity: number;
  time: ArrayLike<number>;
  equity: ArrayLike<number>;
  /** Position after each bar (for exposure). */
  position?: ArrayLike<number>;
  /** Closes over the same bars (for buy-and-hold). */
  close?: ArrayLike<number>;
  trades: readonly Trade[];
  commission?: number;
}

const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function computeMetrics(m: MetricsInput): Metrics {
  const n = m.equity.length;
  const e0 = m.startEquity;
  const eN = n > 0 ? m.equity[n - 1]! : e0;
  const span = n > 1 ? m.time[n - 1]! - m.time[0]! : 0;
  const years = span / YEAR_MS;
  const total = eN / e0 - 1;
  const annual = years > 0 && eN > 0 ? Math.pow(eN / e0, 1 / years) - 1 : NaN;

  let sum = 0;
  let prev = e0;
  for (let i = 0; i < n; i++) {
    sum += m.equity[i]! / prev - 1;
    prev = m.equity[i]!;
  }
  const mean = n > 0 ? sum / n : NaN;
  let ss = 0;
  let down = 0;
  prev = e0;
  for (let i = 0; i < n; i++) {
    const r = m.equity[i]! / prev - 1;
    prev = m.equity[i]!;
    ss += (r - mean) * (r - mean);
    if (r < 0) down += r * r;
  }
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : NaN;
  const downDev = n > 0 ? Math.sqrt(down / n) : NaN;
  const perYear = years > 0 ? Math.sqrt(n / years) : NaN;
  const sharpe = std > 0 ? (mean / std) * perYear : NaN;
  const sortino = downDev > 0 ? (mean / downDev) * perYear : NaN;

  let peak = e0;
  let peakAt = -1;
  let mdd = 0;
  let ddBars = 0;
  let ddMs = 0;
  const t0 = n > 0 ? m.time[0]! : 0;
  for (let i = 0; i < n; i++) {
    const e = m.equity[i]!;
    if (e >= peak) {
      peak = e;
      peakAt = i;
    } else {
      const dd = (peak - e) / peak;
      if (dd > mdd) mdd = dd;
      const bars = i - peakAt;
      if (bars > ddBars) ddBars = bars;
      const ms = m.time[i]! - (peakAt >= 0 ? m.time[peakAt]! : t0);
      if (ms > ddMs) ddMs = ms;
    }
  }
  const calmar = mdd > 0 ? annual / mdd : NaN;

  const trades = m.trades;
  let wins = 0;
  let gp = 0;
  let gl = 0;
  let pnl = 0;
  let hold = 0;
  let holdMs = 0;
  for (const t of trades) {
    if (t.pnl > 0) {
      wins++;
      gp += t.pnl;
    } else gl -= t.pnl;
    pnl += t.pnl;
    hold += t.bars;
    holdMs += t.exitTime - t.entryTime;
  }
  const k = trades.length;
  let exposed = 0;
  if (m.position) for (let i = 0; i < n; i++) if (m.position[i] !== 0) exposed++;
  const bh = m.close && n > 0 ? m.close[n - 1]! / m.close[0]! - 1 : NaN;

  return {
    bars: n,
    startTime: n > 0 ? new Date(m.time[0]!).toISOString() : null,
    endTime: n > 0 ? new Date(m.time[n - 1]!).toISOString() : null,
    startEquity: e0,
    endEquity: eN,
    totalReturn: fin(total),
    annualReturn: fin(annual),
    buyHoldReturn: fin(bh),
    sharpe: fin(sharpe),
    sortino: fin(sortino),
    calmar: fin(calmar),
    maxDrawdown: mdd,
    maxDrawdownBars: ddBars,
    maxDrawdownMs: ddMs,
    trades: k,
    winRate: k > 0 ? wins / k : null,
    profitFactor: gl > 0 ? gp / gl : null,
    expectancy: k > 0 ? pnl / k : null,
    exposure: m.position && n > 0 ? exposed / n : null,
    avgHoldingBars: k > 0 ? hold / k : null,
    avgHoldingMs: k > 0 ? holdMs / k : null,
    commission: m.commission ?? 0,
  };
}
