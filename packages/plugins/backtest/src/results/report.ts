/**
 * The self-contained HTML report of one backtest (`@runner/core/html`, uPlot inlined): metrics,
 * equity vs buy-and-hold, drawdown, and the trades marked on the price. Long series are thinned
 * to at most MAX_POINTS points per chart (each kept point is an actual bar; the extremes of each
 * bucket are kept so drawdowns are not hidden).
 */
import { chartDiv, chartScript, escapeHtml, htmlPage } from '@runner/core/html';
import type { Metrics } from '../engine/metrics.js';
import type { Trade } from '../engine/types.js';
import type { EquityTable } from './tables.js';

const MAX_POINTS = 4000;
const MAX_MARKS = 2000;

export interface ReportInput {
  title: string;
  subtitle: string;
  inSample: boolean;
  settings: [string, string][];
  metrics: Metrics;
  table: EquityTable;
  trades: readonly Trade[];
}

/** Indices to plot: first, last, and per bucket the bars with the lowest and highest `y`. */
export function thin(y: Float64Array, max = MAX_POINTS): number[] {
  const n = y.length;
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.floor(max / 2);
  const out: number[] = [0];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets);
    let imin = lo;
    let imax = lo;
    for (let i = lo; i < hi; i++) {
      if (y[i]! < y[imin]!) imin = i;
      if (y[i]! > y[imax]!) imax = i;
    }
    out.push(Math.min(imin, imax), Math.max(imin, imax));
  }
  out.push(n - 1);
  return [...new Set(out)].sort((a, b) => a - b);
}

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(2)}%`);
const num = (x: number | null, d = 2) => (x === null ? '–' : x.toFixed(d));

export function reportHtml(r: ReportInput): string {
  const m = r.metrics;
  const t = r.table;
  const secs = (i: number) => t.time[i]! / 1000;
  const ie = thin(t.equity);
  const idd = thin(t.drawdown);
  const ip = thin(t.close);
  const rows: [string, string][] = [
    ['Total return', pct(m.totalReturn)],
    ['Buy and hold (same bars)', pct(m.buyHoldReturn)],
    ['Annualised return', pct(m.annualReturn)],
    ['Sharpe', num(m.sharpe)],
    ['Sortino', num(m.sortino)],
    ['Calmar', num(m.calmar)],
    ['Max drawdown', pct(m.maxDrawdown)],
    ['Max drawdown duration', `${m.maxDrawdownBars} bars (${(m.maxDrawdownMs / 86_400_000).toFixed(1)} days)`],
    ['Trades', String(m.trades)],
    ['Win rate', pct(m.winRate)],
    ['Profit factor', num(m.profitFactor)],
    ['Expectancy (per trade)', num(m.expectancy)],
    ['Exposure', pct(m.exposure)],
    ['Average holding', m.avgHoldingBars === null ? '–' : `${m.avgHoldingBars.toFixed(1)} bars`],
    ['Commission paid', num(m.commission)],
    ['Final equity', num(m.endEquity)],
  ];
  const marks = r.trades.slice(0, MAX_MARKS).flatMap((tr) => [
    { x: tr.entryTime / 1000, y: tr.entryPrice, color: tr.side === 'long' ? '#1a7f37' : '#cf222e' },
    { x: tr.exitTime / 1000, y: tr.exitPrice, color: '#57606a' },
  ]);
  const body = `
<h1>${escapeHtml(r.title)}</h1>
<p class="note">${escapeHtml(r.subtitle)}</p>
${r.inSample ? '<p class="warn"><b>In-sample:</b> this period overlaps the data the model was trained or validated on (allowInSample: true). These figures flatter the model.</p>' : ''}
<table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td class="num">${escapeHtml(v)}</td></tr>`).join('')}</table>
<h2>Equity vs buy and hold</h2>${chartDiv('equity')}
<h2>Drawdown</h2>${chartDiv('drawdown')}
<h2>Trades on the price</h2>
<p class="note">Green: long entries, red: short entries, grey: exits.${r.trades.length > MAX_MARKS ? ` The first ${MAX_MARKS} of ${r.trades.length} trades are marked.` : ''}</p>
${chartDiv('price')}
<h2>Settings</h2>
<table>${r.settings.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>
<h2>Last trades</h2>
<table><tr><th>#</th><th>side</th><th class="num">qty</th><th>entry</th><th class="num">price</th><th>exit</th><th class="num">price</th><th class="num">P&amp;L</th></tr>
${r.trades
  .slice(-20)
  .map((x) => `<tr><td>${x.seq}</td><td>${x.side}</td><td class="num">${x.qty}</td><td>${new Date(x.entryTime).toISOString()}</td><td class="num">${x.entryPrice.toFixed(4)}</td><td>${new Date(x.exitTime).toISOString()}</td><td class="num">${x.exitPrice.toFixed(4)}</td><td class="num ${x.pnl >= 0 ? 'good' : 'bad'}">${x.pnl.toFixed(2)}</td></tr>`)
  .join('\n')}</table>`;
  const script =
    chartScript('equity', {
      series: [{ label: 'strategy' }, { label: 'buy and hold', dash: [6, 4] }],
      data: [ie.map(secs), ie.map((i) => t.equity[i]!), ie.map((i) => t.buyHold[i]!)],
      xTime: true,
      yLabel: 'equity',
    }) +
    chartScript('drawdown', { series: [{ label: 'drawdown %', color: '#cf222e' }], data: [idd.map(secs), idd.map((i) => t.drawdown[i]! * 100)], xTime: true, yLabel: '%', height: 180 }) +
    chartScript('price', { series: [{ label: 'close' }], data: [ip.map(secs), ip.map((i) => t.close[i]!)], xTime: true, yLabel: 'price', marks });
  return htmlPage({ title: r.title, body, script });
}
