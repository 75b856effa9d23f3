/**
 * A paper task's results as files, named as the backtester names them: the fills (the trade log),
 * the closed round trips (trades) and the per-bar equity as Arrow and CSV, the engine's metrics as
 * JSON, and a self-contained HTML report. Written atomically into the task's artifact directory; the
 * content depends only on the ledger, so an interrupted-and-resumed trader writes the same bytes
 * as an uninterrupted one.
 */
import type { TaskContext } from '@runner/core';
import { computeMetrics, type Trade } from '@runner/plugin-backtest/engine';
import type { PaperLedger, EquityPoint, TradeRecord } from '../ledger/ledger.js';
import { renderReport } from './report.js';

export interface ExportedFiles {
  /** The trade log: every fill. */
  fills: { arrow: string; csv: string };
  /** Closed round trips. */
  trades: { arrow: string; csv: string };
  equity: { arrow: string; csv: string };
  metrics: string;
  report: string;
}

const FILL_COLUMNS = ['seq', 'time', 'orderId', 'symbol', 'side', 'qty', 'price', 'commission', 'intent', 'cashAfter', 'positionAfter'] as const;
const EQUITY_COLUMNS = ['time', 'close', 'cash', 'position', 'equity'] as const;
const ROUND_COLUMNS = ['seq', 'side', 'qty', 'entryTime', 'entryPrice', 'exitTime', 'exitPrice', 'commission', 'pnl', 'returnPct', 'bars'] as const;
const STRING_COLUMNS = new Set(['orderId', 'symbol', 'side', 'intent']);
const ROUND_STRINGS = new Set(['side']);

export async function exportLedger(ctx: TaskContext<any>, ledger: PaperLedger<any>, o: { symbol: string; startCash: number; title: string }): Promise<ExportedFiles> {
  const trades = [...ledger.trades()];
  const equity = [...ledger.equity()];
  const rounds = [...ledger.rounds<Trade>()];
  const metrics = computeMetrics({
    startEquity: o.startCash,
    time: Float64Array.from(equity, (e) => e.time),
    equity: Float64Array.from(equity, (e) => e.equity),
    position: Float64Array.from(equity, (e) => e.position),
    close: Float64Array.from(equity, (e) => e.close),
    trades: rounds,
    commission: trades.reduce((a, t) => a + t.commission, 0),
  });
  const arrow = await import('apache-arrow');
  const w = (name: string, data: Uint8Array | string) => ctx.writeArtifact(name, data).then((r) => r.path);
  return {
    fills: { arrow: await w('fills.arrow', toArrow(arrow, trades, FILL_COLUMNS, STRING_COLUMNS)), csv: await w('fills.csv', toCsv(trades, FILL_COLUMNS)) },
    trades: { arrow: await w('trades.arrow', toArrow(arrow, rounds, ROUND_COLUMNS, ROUND_STRINGS)), csv: await w('trades.csv', toCsv(rounds, ROUND_COLUMNS)) },
    equity: { arrow: await w('equity.arrow', toArrow(arrow, equity, EQUITY_COLUMNS, new Set())), csv: await w('equity.csv', toCsv(equity, EQUITY_COLUMNS)) },
    metrics: await w('metrics.json', JSON.stringify(metrics, null, 2) + '\n'),
    report: await w('report.html', renderReport({ title: o.title, symbol: o.symbol, equity, trades, metrics: metrics as unknown as Record<string, unknown> })),
  };
}

type Row = TradeRecord | EquityPoint | Trade;

function toArrow(arrow: typeof import('apache-arrow'), rows: readonly Row[], columns: readonly string[], strings: ReadonlySet<string>): Uint8Array {
  const cols: Record<string, unknown> = {};
  for (const c of columns) {
    const values = rows.map((r) => (r as unknown as Record<string, unknown>)[c]);
    cols[c] = strings.has(c) ? arrow.vectorFromArray(values.map(String), new arrow.Utf8()) : Float64Array.from(values as number[]);
  }
  return arrow.tableToIPC(arrow.tableFromArrays(cols as Record<string, Float64Array>), 'file');
}

function toCsv(rows: readonly Row[], columns: readonly string[]): string {
  const cell = (v: unknown) => {
    const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v ?? '');
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell((r as unknown as Record<string, unknown>)[c])).join(','))].join('\n') + '\n';
}
