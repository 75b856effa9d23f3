import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Self-contained HTML pages with charts: reports open from disk with no server and no network,
 * so the chart library (uPlot, ~50 KB minified) and its CSS are inlined into every page.
 *
 * @example
 * ```ts
 * const html = htmlPage({
 *   title: 'Backtest AAPL',
 *   body: `<h1>AAPL</h1>${chartDiv('equity')}`,
 *   script: chartScript('equity', { title: 'Equity', series: [{ label: 'strategy' }], data: [xs, ys] }),
 * });
 * ```
 */
export interface HtmlPageOptions {
  title: string;
  /** Trusted HTML for the page body: escape every value with {@link escapeHtml}. */
  body: string;
  /** Extra JavaScript, run after uPlot is defined (e.g. {@link chartScript} calls). */
  script?: string;
  /** Extra CSS. */
  style?: string;
}

const require = createRequire(import.meta.url);
let uplotCache: { js: string; css: string } | undefined;

/** uPlot's minified IIFE build and CSS, read once from the installed package. */
export function uplotAssets(): { js: string; css: string } {
  if (!uplotCache) {
    const pkgDir = require.resolve('uplot/package.json').replace(/package\.json$/, '');
    uplotCache = {
      js: readFileSync(pkgDir + 'dist/uPlot.iife.min.js', 'utf8'),
      css: readFileSync(pkgDir + 'dist/uPlot.min.css', 'utf8'),
    };
  }
  return uplotCache;
}

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe to embed inside a `<script>` element (no `</script>` or `<!--` can end it early). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const BASE_STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:4px 10px;border-bottom:1px solid #e3e6ea;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.chart{margin:8px 0 16px}.note{color:#57606a}.warn{color:#9a6700}.bad{color:#cf222e}.good{color:#1a7f37}
`;

/** A complete HTML document with uPlot inlined; `window.runnerCharts` collects the charts drawn. */
export function htmlPage(opts: HtmlPageOptions): string {
  const { js, css } = uplotAssets();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style>${css}${BASE_STYLE}${opts.style ?? ''}</style>
<script>${js}</script>
<script>${CHART_RUNTIME}</script>
</head><body>
${opts.body}
<script>${opts.script ?? ''}</script>
</body></html>
`;
}

/** One chart: x values first, then one array per series (nulls leave gaps). */
export interface ChartSpec {
  title?: string;
  /** `line: false` draws points only (a scatter, e.g. trial values); `points` adds dots to a line. */
  series: Array<{ label: string; color?: string; dash?: number[]; points?: boolean; width?: number; line?: boolean }>;
  data: Array<ArrayLike<number | null>>;
  /** x is Unix seconds (time axis) or a plain number such as an epoch or a trial number. */
  xTime?: boolean;
  xLabel?: string;
  yLabel?: string;
  height?: number;
  /** Log-scale y axis. */
  yLog?: boolean;
  /** `false` hides the legend (e.g. dozens of per-trial curves). @default true */
  legend?: boolean;
  /** Optional scatter marks drawn over the first series: x values, y values and a colour each. */
  marks?: Array<{ x: number; y: number; color: string }>;
}

export function chartDiv(id: string): string {
  return `<div class="chart" id="${escapeHtml(id)}"></div>`;
}

/** A call that draws `spec` into the element with `id` (see {@link chartDiv}). */
export function chartScript(id: string, spec: ChartSpec): string {
  const data = spec.data.map((col) => Array.from(col, (v) => (v === null || !Number.isFinite(v) ? null : v)));
  return `runnerChart(${scriptJson(id)},${scriptJson({ ...spec, data })});\n`;
}

const PALETTE = ['#0969da', '#8250df', '#1a7f37', '#bf8700', '#cf222e', '#57606a', '#0a3069', '#bc4c00'];

const CHART_RUNTIME = `
window.runnerCharts=[];
window.runnerChart=function(id,spec){
  var el=document.getElementById(id); if(!el) return;
  var pal=${JSON.stringify(PALETTE)};
  var series=[{label:spec.xLabel||(spec.xTime?'time':'x')}];
  spec.series.forEach(function(s,i){var o={label:s.label,stroke:s.color||pal[i%pal.length],width:s.width||1.5,dash:s.dash,
    points:{show:!!s.points||s.line===false,size:5,fill:s.color||pal[i%pal.length]},spanGaps:false};
    if(s.line===false){o.paths=function(){return null;};}series.push(o);});
  var marks=spec.marks||[];
  var opts={title:spec.title,width:Math.max(320,Math.min(1100,(el.clientWidth||900))),height:spec.height||260,
    scales:{x:{time:!!spec.xTime},y:spec.yLog?{distr:3}:{}},series:series,legend:{show:spec.legend!==false},
    axes:[{label:spec.xLabel},{label:spec.yLabel,size:70}],
    hooks:{draw:[function(u){ if(!marks.length) return; var ctx=u.ctx; ctx.save();
      marks.forEach(function(m){var x=u.valToPos(m.x,'x',true),y=u.valToPos(m.y,'y',true);
        ctx.fillStyle=m.color;ctx.beginPath();ctx.arc(x,y,4*devicePixelRatio,0,2*Math.PI);ctx.fill();});
      ctx.restore();}]}};
  var u=new uPlot(opts,spec.data,el); window.runnerCharts.push(u); return u;
};
`;
