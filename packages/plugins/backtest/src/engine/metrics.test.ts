import { describe, expect, it } from 'vitest';
import { computeMetrics } from './metrics.js';
import type { Trade } from './types.js';

const DAY = 86_400_000;
const trade = (pnl: number, bars: number): Trade => ({ seq: 0, side: 'long', qty: 1, entryBar: 0, entryTime: 0, entryPrice: 10, exitBar: bars, exitTime: bars * DAY, exitPrice: 10, commission: 0, pnl, returnPct: pnl / 10, bars });

describe('computeMetrics on a hand-computed series', () => {
  // Cash 100; equity 110, 99, 121 at daily closes; closes 10, 9, 12; in the market on bars 0 and 2.
  // Returns: +10%, -10%, +22.22%; mean 0.074074, sample std 0.162668; 3 bars over 2 days.
  const m = computeMetrics({
    startEquity: 100,
    time: [0, DAY, 2 * DAY],
    equity: [110, 99, 121],
    position: [1, 0, 1],
    close: [10, 9, 12],
    trades: [trade(5, 2), trade(-2, 1), trade(3, 3)],
    commission: 1.5,
  });

  it('returns, buy and hold', () => {
    expect(m.totalReturn).toBeCloseTo(0.21, 12);
    expect(m.buyHoldReturn).toBeCloseTo(0.2, 12);
    // 1.21 ^ (365.25 / 2) - 1
    expect(m.annualReturn! / 1.3142508120773542e15).toBeCloseTo(1, 9);
  });

  it('Sharpe, Sortino, Calmar', () => {
    // mean / std × sqrt(bars per year) = 0.074074 / 0.162668 × sqrt(3 / (2 / 365.25))
    expect(m.sharpe).toBeCloseTo(10.658709447759495, 9);
    // downside deviation sqrt((0.1²) / 3)
    expect(m.sortino).toBeCloseTo(30.03084833719909, 9);
    expect(m.calmar! / 1.3142508120773542e16).toBeCloseTo(1, 9);
  });

  it('drawdown and its duration', () => {
    expect(m.maxDrawdown).toBeCloseTo(11 / 110, 12);
    expect(m.maxDrawdownBars).toBe(1);
    expect(m.maxDrawdownMs).toBe(DAY);
  });

  it('trade statistics and exposure', () => {
    expect(m.trades).toBe(3);
    expect(m.winRate).toBeCloseTo(2 / 3, 12);
    expect(m.profitFactor).toBe(4);
    expect(m.expectancy).toBe(2);
    expect(m.avgHoldingBars).toBe(2);
    expect(m.avgHoldingMs).toBe(2 * DAY);
    expect(m.exposure).toBeCloseTo(2 / 3, 12);
    expect(m.commission).toBe(1.5);
  });

  it('undefined values are null, not Infinity or NaN', () => {
    const flat = computeMetrics({ startEquity: 100, time: [0, DAY], equity: [100, 100], trades: [] });
    expect(flat).toMatchObject({ sharpe: null, sortino: null, calmar: null, winRate: null, profitFactor: null, expectancy: null, maxDrawdown: 0, exposure: null });
    expect(JSON.stringify(flat)).not.toMatch(/Infinity|NaN/);
  });
});
