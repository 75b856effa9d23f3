import { chartDiv, chartScript, escapeHtml, htmlPage } from '../html/page.js';
import type { ReportTable } from '../plugin/types.js';
import { formatDuration } from '../cli/format.js';
import type { ReportModel } from './build.js';
import { formatMetric } from './headline.js';

const STATE_CLASS: Record<string, string> = { completed: 'good', failed: 'bad', cancelled: 'warn', running: 'note', pending: 'note' };

export function tableHtml(t: ReportTable): string {
  const num = new Set(t.numeric ?? []);
  const head = t.columns.map((c, i) => `<th${num.has(i) ? ' class="num"' : ''}>${escapeHtml(c)}</th>`).join('');
  const body = t.rows
    .map((r) => `<tr>${r.map((v, i) => `<td${num.has(i) ? ' class="num"' : ''}>${v === null || v === undefined ? '' : escapeHtml(typeof v === 'number' ? formatMetric(v) : v)}</td>`).join('')}</tr>`)
    .join('\n');
  return `${t.title ? `<h4>${escapeHtml(t.title)}</h4>` : ''}<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/**
 * One self-contained HTML page (uPlot inlined, no network): the run's counts, a summary table per
 * cell (state, duration and headline metric of each stage), each stage's curves and the sections
 * its plugin adds.
 */
export function renderReport(m: ReportModel): string {
  let n = 0;
  const id = () => `chart-${++n}`;
  let script = '';
  const chart = (spec: Parameters<typeof chartScript>[1]) => {
    const el = id();
    script += chartScript(el, spec);
    return chartDiv(el);
  };
  const k = m.counts;
  const parts: string[] = [];
  parts.push(`<h1>${escapeHtml(m.name)}</h1>`);
  parts.push(
    `<p class="note">${k.total} tasks: ${k.completed} completed, ${k.running} running, ${k.pending} pending, ${k.failed} failed, ${k.cancelled} cancelled. ` +
      `Store ${escapeHtml(m.runDir)}; report made ${escapeHtml(m.generatedAt)}.</p>`,
  );
  const stageIds = m.stages.map((s) => s.id);
  parts.push('<h2>Summary per cell</h2>');
  const head = ['cell', 'cycle', ...stageIds].map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const rows = m.cells.map((r) => {
    const cells = stageIds.map((s) => {
      const e = r.stages[s];
      if (!e) return '<td></td>';
      const metric = e.headline ? ` · ${escapeHtml(e.headline.name)} ${escapeHtml(formatMetric(e.headline.value))}` : '';
      const prog = e.state === 'running' && e.progress !== undefined ? ` ${Math.floor(e.progress * 100)}%` : '';
      return `<td title="${escapeHtml(e.id)}"><span class="${STATE_CLASS[e.state] ?? ''}">${e.state}${prog}</span> ${e.durationMs > 0 ? escapeHtml(formatDuration(e.durationMs)) : ''}${metric}</td>`;
    });
    return `<tr><td>${escapeHtml(r.cell)}</td><td class="num">${r.cycle}</td>${cells.join('')}</tr>`;
  });
  parts.push(`<table class="summary"><thead><tr>${head}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`);
  for (const s of m.stages) {
    const c = s.counts;
    parts.push(`<h2 id="stage-${escapeHtml(s.id)}">Stage ${escapeHtml(s.id)} <span class="note">(${escapeHtml(s.plugin)})</span></h2>`);
    parts.push(`<p class="note">${c.total} tasks: ${c.completed} completed, ${c.running} running, ${c.pending} pending, ${c.failed} failed, ${c.cancelled} cancelled.</p>`);
    if (s.curves.length > 0) {
      parts.push('<h3>Training curves</h3>');
      for (const spec of s.curves) parts.push(chart({ ...spec, height: 220 }));
    }
    if (s.error) parts.push(`<p class="bad">${escapeHtml(s.error)}</p>`);
    for (const sec of s.sections) {
      parts.push(`<section class="plugin-section"><h3>${escapeHtml(sec.title)}</h3>`);
      if (sec.note) parts.push(`<p class="note">${escapeHtml(sec.note)}</p>`);
      for (const spec of sec.charts ?? []) parts.push(chart(spec));
      for (const t of sec.tables ?? []) parts.push(tableHtml(t));
      if (sec.html) parts.push(sec.html);
      parts.push('</section>');
    }
  }
  return htmlPage({ title: `${m.name} report`, body: parts.join('\n'), script, style: 'table.summary td{white-space:nowrap}h4{margin:12px 0 4px}' });
}
