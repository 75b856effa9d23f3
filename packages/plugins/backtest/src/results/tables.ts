/**
 * Result tables as CSV and Arrow: the trade list, the fills and the per-bar equity curve.
 */
import type { Fill, Trade } from '../engine/types.js';

const iso = (ms: number): string => new Date(ms).toISOString();

function csv(header: string[], rows: Iterable<(string | number)[]>): string {
  const out = [header.join(',')];
  for (const r of rows) out.push(r.map((v) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v))).join(','));
  return out.join('\n') + '\n';
}

export const TRADE_COLUMNS = ['seq', 'side', 'qty', 'entry_time', 'entry_price', 'exit_time', 'exit_price', 'commission', 'pnl', 'return_pct', 'bars'];

export function tradesCsv(trades: readonly Trade[]): string {
  return csv(
    TRADE_COLUMNS,
    trades.map((t) => [t.seq, t.side, t.qty, iso(t.entryTime), t.entryPrice, iso(t.exitTime), t.exitPrice, t.commission, t.pnl, t.returnPct, t.bars]),
  );
}

export function fillsCsv(fills: readonly Fill[]): string {
  return csv(
    ['order_id', 'bar', 'time', 'side', 'type', 'intent', 'qty', 'price', 'commission', 'position', 'cash'],
    fills.map((f) => [f.orderId, f.bar, iso(f.time), f.side, f.type, f.intent, f.qty, f.price, f.commission, f.position, f.cash]),
  );
}

export interface EquityTable {
  time: Float64Array;
  close: Float64Array;
  equity: Float64Array;
  position: Float64Array;
  buyHold: Float64Array;
  drawdown: Float64Array;
}

export function equityTable(time: Float64Array, close: Float64Array, equity: Float64Array, position: Float64Array, cash: number): EquityTable {
  const n = equity.length;
  const buyHold = new Float64Array(n);
  const drawdown = new Float64Array(n);
  let peak = cash;
  for (let i = 0; i < n; i++) {
    buyHold[i] = (cash * close[i]!) / close[0]!;
    if (equity[i]! > peak) peak = equity[i]!;
    drawdown[i] = (equity[i]! - peak) / peak;
  }
  return { time, close, equity, position, buyHold, drawdown };
}

export function equityCsv(t: EquityTable): string {
  const rows = function* () {
    for (let i = 0; i < t.equity.length; i++) yield [iso(t.time[i]!), t.close[i]!, t.equity[i]!, t.position[i]!, t.buyHold[i]!, t.drawdown[i]!];
  };
  return csv(['time', 'close', 'equity', 'position', 'buy_hold', 'drawdown'], rows());
}

/** Arrow IPC files (apache-arrow). Times are epoch milliseconds as float64, like the input series. */
export async function tradesArrow(trades: readonly Trade[]): Promise<Uint8Array> {
  const arrow = await import('apache-arrow');
  const col = (f: (t: Trade) => number) => Float64Array.from(trades, f);
  // Plain Utf8, not a dictionary: dictionary ids count up per process, which would make the
  // bytes depend on what else the process wrote.
  const side = arrow.vectorFromArray(
    trades.map((t) => t.side),
    new arrow.Utf8(),
  );
  const table = new arrow.Table({
    seq: arrow.makeVector(col((t) => t.seq)),
    side,
    qty: arrow.makeVector(col((t) => t.qty)),
    entry_time: arrow.makeVector(col((t) => t.entryTime)),
    entry_price: arrow.makeVector(col((t) => t.entryPrice)),
    exit_time: arrow.makeVector(col((t) => t.exitTime)),
    exit_price: arrow.makeVector(col((t) => t.exitPrice)),
    commission: arrow.makeVector(col((t) => t.commission)),
    pnl: arrow.makeVector(col((t) => t.pnl)),
    return_pct: arrow.makeVector(col((t) => t.returnPct)),
    bars: arrow.makeVector(col((t) => t.bars)),
  });
  return arrow.tableToIPC(table, 'file');
}

export async function equityArrow(t: EquityTable): Promise<Uint8Array> {
  const arrow = await import('apache-arrow');
  const table = arrow.tableFromArrays({ time: t.time, close: t.close, equity: t.equity, position: t.position, buy_hold: t.buyHold, drawdown: t.drawdown });
  return arrow.tableToIPC(table, 'file');
}
