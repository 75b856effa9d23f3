/**
 * The HTML report of a paper task: equity against buy-and-hold, drawdown, and the fills marked on
 * the price, with the metrics table; one self-contained page from `@runner/core/html`.
 */
import { chartDiv, chartScript, escapeHtml, htmlPage } from '@runner/core/html';
import type { EquityPoint, TradeRecord } from '../ledger/ledger.js';

export interface ReportInput {
  title: string;
  symbol: string;
  equity: EquityPoint[];
  trades: TradeRecord[];
  metrics: Record<string, unknown>;
}

export function renderReport(r: ReportInput): string {
  const xs = r.equity.map((e) => e.time / 1000);
  const eq = r.equity.map((e) => e.equity);
  const e0 = eq[0] ?? 0;
  const c0 = r.equity[0]?.close ?? 1;
  const hold = r.equity.map((e) => (e0 * e.close) / c0);
  let peak = -Infinity;
  const dd = eq.map((v) => {
    peak = Math.max(peak, v);
    return peak > 0 ? (v / peak - 1) * 100 : 0;
  });
  const marks = r.trades.map((t) => ({ x: t.time / 1000, y: t.price, color: t.side === 'buy' ? '#1a7f37' : '#cf222e' }));
  const rows = Object.entries(r.metrics)
    .filter(([, v]) => typeof v === 'number' || v === null)
    .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td class="num">${v === null ? '–' : escapeHtml(Number((v as number).toPrecision(6)))}</td></tr>`)
    .join('');
  const last = r.trades.slice(-50).reverse();
  const body = `<h1>${escapeHtml(r.title)}</h1>
<p class="note">${escapeHtml(r.symbol)} · ${r.equity.length} bars · ${r.trades.length} fills${r.equity.length ? ` · ${escapeHtml(new Date(r.equity[0]!.time).toISOString())} to ${escapeHtml(new Date(r.equity[r.equity.length - 1]!.time).toISOString())}` : ''}</p>
<h2>Equity</h2>${chartDiv('equity')}
<h2>Drawdown</h2>${chartDiv('drawdown')}
<h2>Fills on the price</h2>${chartDiv('price')}
<h2>Metrics</h2><table>${rows}</table>
<h2>Latest fills</h2><table><tr><th>time</th><th>side</th><th class="num">qty</th><th class="num">price</th><th class="num">commission</th><th>intent</th><th>order id</th></tr>
${last.map((t) => `<tr><td>${escapeHtml(new Date(t.time).toISOString())}</td><td>${escapeHtml(t.side)}</td><td class="num">${escapeHtml(t.qty)}</td><td class="num">${escapeHtml(t.price)}</td><td class="num">${escapeHtml(t.commission)}</td><td>${escapeHtml(t.intent)}</td><td>${escapeHtml(t.orderId)}</td></tr>`).join('\n')}</table>`;
  const script =
    chartScript('equity', { title: 'Equity vs buy-and-hold', xTime: true, series: [{ label: 'paper' }, { label: 'buy and hold', dash: [4, 4] }], data: [xs, eq, hold] }) +
    chartScript('drawdown', { title: 'Drawdown %', xTime: true, series: [{ label: 'drawdown %', color: '#cf222e' }], data: [xs, dd] }) +
    chartScript('price', { title: `${r.symbol} close, fills marked`, xTime: true, series: [{ label: 'close' }], data: [xs, r.equity.map((e) => e.close)], marks });
  return htmlPage({ title: r.title, body, script });
}
