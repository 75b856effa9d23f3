import { describe, expect, it } from 'vitest';
import { createEngine, defineStrategy, isBacktestError, smaCross, type Bar, type Fill, type Trade } from './index.js';

const bar = (time: number, open: number, high: number, low: number, close: number, signal = NaN): Bar => ({ time, open, high, low, close, volume: NaN, signal });

/** A strategy that replays a script: bar index → what to do. */
const scripted = defineStrategy<{ script: Record<number, (ctx: any) => void> }, { i: number }>({
  name: 'scripted',
  init: () => ({ i: 0 }),
  onBar(s, _bar, ctx) {
    (this as any).script?.[s.i]?.(ctx);
    s.i++;
  },
});

function run(script: Record<number, (ctx: any) => void>, bars: Bar[], config = {}) {
  const fills: Fill[] = [];
  const trades: Trade[] = [];
  const strat = { ...scripted, script };
  const e = createEngine({ config: { cash: 1000, ...config }, strategy: strat, params: { script }, hooks: { onFill: (f) => fills.push(f), onTrade: (t) => trades.push(t) } });
  const equity = bars.map((b) => e.onBar(b));
  return { e, fills, trades, equity };
}

describe('engine', () => {
  const bars = [bar(1, 10, 11, 9, 10), bar(2, 10.5, 12, 10, 11), bar(3, 11, 13, 10.5, 12), bar(4, 12, 12.5, 8, 9), bar(5, 9, 10, 8.5, 9.5)];

  it('fills a market order at the next open with slippage and per-unit commission', () => {
    const { fills, trades, equity, e } = run({ 0: (c) => c.order({ side: 'buy', qty: 10, intent: 'in' }), 2: (c) => c.exit() }, bars, {
      commission: { perUnit: 0.1 },
      slippage: { bps: 100 },
      idPrefix: 'symbol=X',
    });
    expect(fills.map((f) => [f.orderId, f.bar, f.price, f.commission])).toEqual([
      ['symbol=X|1|in', 1, 10.5 * 1.01, 1],
      ['symbol=X|3|exit', 3, 12 * 0.99, 1],
    ]);
    expect(equity[0]).toBe(1000);
    expect(equity[1]).toBe(1000 - 10 * 10.5 * 1.01 - 1 + 10 * 11);
    expect(trades).toHaveLength(1);
    expect(trades[0]!.pnl).toBeCloseTo(10 * (12 * 0.99 - 10.5 * 1.01) - 2, 10);
    expect(trades[0]!.bars).toBe(2);
    expect(e.position).toBe(0);
    expect(e.cash).toBeCloseTo(1000 + trades[0]!.pnl, 10);
  });

  it('fills limits and stops when the bar reaches them, pct and per-order commission', () => {
    const a = run({ 0: (c) => c.order({ side: 'buy', qty: 1, type: 'limit', price: 10.2 }) }, bars, { commission: { pct: 1 } });
    expect(a.fills.map((f) => [f.bar, f.price, f.commission])).toEqual([[1, 10.2, 10.2 * 0.01]]);
    const b = run({ 0: (c) => c.order({ side: 'buy', qty: 1, type: 'stop', price: 12.5 }) }, bars, { commission: { perOrder: 2 } });
    expect(b.fills.map((f) => [f.bar, f.price, f.commission])).toEqual([[2, 12.5, 2]]);
    const s = run({ 0: (c) => c.order({ side: 'sell', qty: 1, type: 'stop', price: 9 }) }, bars);
    expect(s.fills.map((f) => [f.bar, f.price, f.position])).toEqual([[3, 9, -1]]);
  });

  it('goes short, flips and closes with round trips split at the flip', () => {
    const { trades, fills } = run({ 0: (c) => c.enterShort(), 1: (c) => c.enterLong(), 3: (c) => c.exit() }, bars, { allowShort: true, sizing: { units: 2 } });
    expect(fills.map((f) => [f.side, f.qty, f.position])).toEqual([['sell', 2, -2], ['buy', 4, 2], ['sell', 2, 0]]);
    expect(trades.map((t) => [t.side, t.qty, t.pnl])).toEqual([['short', 2, 2 * (10.5 - 11)], ['long', 2, 2 * (9 - 11)]]);
  });

  it('sizes by fraction of equity', () => {
    const { fills } = run({ 0: (c) => c.enterLong() }, bars, { sizing: { fraction: 0.5 } });
    expect(fills[0]!.qty).toBe(Math.floor(500 / 10));
  });

  it('rejects a bar whose time does not increase', () => {
    const { e } = run({}, bars.slice(0, 2));
    let err: unknown;
    try {
      e.onBar(bars[0]!);
    } catch (x) {
      err = x;
    }
    expect(isBacktestError(err, 'BACKTEST_ENGINE')).toBe(true);
  });

  it('continues from a snapshot bit for bit', () => {
    const n = 5000;
    const cols = { time: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n) };
    let p = 100;
    for (let i = 0; i < n; i++) {
      const o = p;
      p = Math.round((p + Math.sin(i / 7) * 0.3 + Math.cos(i / 31) * 0.2) * 100) / 100;
      cols.time[i] = 60_000 * i;
      cols.open[i] = o;
      cols.close[i] = p;
      cols.high[i] = Math.max(o, p) + 0.05;
      cols.low[i] = Math.min(o, p) - 0.05;
    }
    const config = { cash: 10_000, commission: { perUnit: 0.1 }, slippage: { bps: 1 }, sizing: { units: 10 }, allowShort: true };
    const full: Fill[] = [];
    const a = createEngine({ config, strategy: smaCross, params: { fast: 5, slow: 20, short: true }, info: { scale: 100 }, hooks: { onFill: (f) => full.push(f) } });
    const eqA = new Float64Array(n);
    a.run(cols, 0, n, { equity: eqA });
    const part: Fill[] = [];
    const b = createEngine({ config, strategy: smaCross, params: { fast: 5, slow: 20, short: true }, info: { scale: 100 }, hooks: { onFill: (f) => part.push(f) } });
    const eqB = new Float64Array(n);
    b.run(cols, 0, 2345, { equity: eqB });
    const snap = JSON.parse(JSON.stringify(b.snapshot(), (_k, v) => (v instanceof Float64Array ? { f64: Array.from(v) } : v === -Infinity ? '-inf' : v)), (_k, v) => (v && v.f64 ? Float64Array.from(v.f64) : v === '-inf' ? -Infinity : v));
    const c = createEngine({ config, strategy: smaCross, params: {}, state: snap, hooks: { onFill: (f) => part.push(f) } });
    c.run(cols, 2345, n, { equity: eqB, offset: 2345 });
    expect(full.length).toBeGreaterThan(20);
    expect(part).toEqual(full);
    expect(Buffer.from(eqB.buffer).equals(Buffer.from(eqA.buffer))).toBe(true);
  });
});
