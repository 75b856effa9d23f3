/**
 * Sections for `runner report` and the `runner serve` dashboard (the plugin `report` hook): per
 * completed task, equity against buy-and-hold over the same bars and the drawdown, read from the
 * task's `equity.arrow`; and one table of the headline metrics of every cell. Shared by the
 * backtester and the paper trader, whose equity files have the same `time, close, equity` columns.
 */
import { isAbsolute, join } from 'node:path';
import type { ReportChart, ReportInput, ReportSection, ReportTable } from '@runner/core';
import { readSeries } from '@runner/core/series';

/** Points per chart: a million-bar equity curve is thinned to this many (min and max kept per bucket). */
const MAX_POINTS = 4000;

export interface EquityReportOptions {
  /** What the stage is called in titles, e.g. "Backtest" or "Paper". */
  label: string;
  /** The equity Arrow file of a task's result (absolute, or relative to the run directory). */
  equityFile(result: Record<string, unknown>): string | undefined;
  /** Metrics shown in the summary table: result key paths and their column titles. */
  metrics: Array<{ key: string; title: string; pct?: boolean }>;
}

function pick(o: unknown, path: string): unknown {
  let v = o;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

export async function equityReport(input: ReportInput, o: EquityReportOptions): Promise<ReportSection[]> {
  const done = input.tasks.filter((t) => t.state === 'completed' && t.result && typeof t.result === 'object');
  if (done.length === 0) return [];
  const table: ReportTable = {
    title: `${o.label}: every cell`,
    columns: ['task', ...o.metrics.map((m) => m.title)],
    rows: done.map((t) => [
      t.id,
      ...o.metrics.map((m) => {
        const v = pick(t.result, m.key);
        return typeof v === 'number' && Number.isFinite(v) ? Number((m.pct ? v * 100 : v).toPrecision(4)) : null;
      }),
    ]),
    numeric: o.metrics.map((_, i) => i + 1),
  };
  const sections: ReportSection[] = [{ title: `${o.label} summary`, tables: [table] }];
  for (const t of done) {
    const rel = o.equityFile(t.result as Record<string, unknown>);
    if (!rel) continue;
    const file = isAbsolute(rel) ? rel : join(input.run.runDir, rel);
    let charts: ReportChart[];
    try {
      charts = equityCharts(await readSeries(file, { columns: ['time', 'close', 'equity'] }));
    } catch (err) {
      sections.push({ title: `${o.label} ${t.id}`, taskId: t.id, note: `equity curve unavailable: ${(err as Error).message}` });
      continue;
    }
    const headline = (t.result as { headline?: unknown }).headline;
    sections.push({ title: `${o.label} ${t.id}`, taskId: t.id, ...(typeof headline === 'string' ? { note: headline } : {}), charts });
  }
  return sections;
}

function equityCharts(s: { rows: number; columns: Record<string, ArrayLike<number>> }): ReportChart[] {
  const time = s.columns.time!;
  const close = s.columns.close!;
  const equity = s.columns.equity!;
  const n = s.rows;
  if (n === 0) return [];
  const start = equity[0]!;
  const idx = thin(equity, MAX_POINTS);
  const xs: number[] = [];
  const eq: number[] = [];
  const bh: number[] = [];
  const dd: number[] = [];
  let peak = -Infinity;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (equity[i]! > peak) peak = equity[i]!;
    if (idx[k] !== i) continue;
    k++;
    xs.push(time[i]! / 1000);
    eq.push(equity[i]!);
    bh.push((start * close[i]!) / close[0]!);
    dd.push(peak > 0 ? (100 * (equity[i]! - peak)) / peak : 0);
  }
  return [
    { title: 'Equity against buy-and-hold', xTime: true, yLabel: 'equity', series: [{ label: 'strategy' }, { label: 'buy & hold', dash: [6, 4] }], data: [xs, eq, bh] },
    { title: 'Drawdown (%)', xTime: true, yLabel: '%', height: 160, series: [{ label: 'drawdown', color: '#cf222e' }], data: [xs, dd] },
  ];
}

/** Row indices to plot: all of them when few, else per bucket its first, min and max (in order). */
function thin(values: ArrayLike<number>, max: number): number[] {
  const n = values.length;
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.floor(max / 3);
  const out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets);
    let mi = lo;
    let ma = lo;
    for (let i = lo; i < hi; i++) {
      if (values[i]! < values[mi]!) mi = i;
      if (values[i]! > values[ma]!) ma = i;
    }
    for (const i of [...new Set([lo, mi, ma])].sort((a, b) => a - b)) out.push(i);
  }
  if (out.at(-1) !== n - 1) out.push(n - 1);
  return out;
}

/** The backtester's sections: its result's `files['equity.arrow']` and `metrics`. */
export const BACKTEST_REPORT: EquityReportOptions = {
  label: 'Backtest',
  equityFile: (r) => (r.files as Record<string, string> | undefined)?.['equity.arrow'],
  metrics: [
    { key: 'metrics.totalReturn', title: 'return %', pct: true },
    { key: 'metrics.buyHoldReturn', title: 'buy & hold %', pct: true },
    { key: 'metrics.sharpe', title: 'Sharpe' },
    { key: 'metrics.maxDrawdown', title: 'max drawdown %', pct: true },
    { key: 'metrics.trades', title: 'trades' },
    { key: 'metrics.winRate', title: 'win rate %', pct: true },
  ],
};
