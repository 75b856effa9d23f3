/**
 * Sources that deliver one CSV file per symbol: `http-csv` (any URL template) and `stooq`
 * (Date,Open,High,Low,Close,Volume). Both download through the resumable single-file engine.
 */
import { configError, sourceError } from '../errors.js';
import { fetchFile } from '../fetch/file.js';
import { firstLine, parseCsv } from '../parse/csv.js';
import { redactUrl } from '../paths.js';
import type { HttpCsvSource, StooqSource, TableOptions } from '../schema.js';
import { parseInterval } from '../time.js';
import { compactYmd, dateRange, expandEnv } from './common.js';
import { dailyWeekdays, type Fetched, type SourceDriver } from './types.js';

const TEMPLATE_KEYS = ['symbol', 'start', 'end', 'startMs', 'endMs', 'startSec', 'endSec', 'startYmd', 'endYmd'];

export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => {
    if (!(k in values)) {
      throw configError(`source.url: unknown placeholder ${m}`, `Use ${TEMPLATE_KEYS.map((x) => `{${x}}`).join(', ')}`);
    }
    return values[k]!;
  });
}

export function httpCsvSource(o: HttpCsvSource): SourceDriver {
  const { start, end } = dateRange(o);
  if (o.interval) parseInterval(o.interval);
  fillTemplate(o.url, Object.fromEntries(TEMPLATE_KEYS.map((k) => [k, ''])));
  const { type: _t, headers: _h, ...params } = o;
  return {
    type: 'http-csv',
    interval: o.interval,
    params: { ...params, end: o.end ?? null },
    openEnded: o.end === undefined,
    defaultCalendar: dailyWeekdays,
    async fetch(run, symbol): Promise<Fetched> {
      const stop = end ?? run.state.now;
      const url = fillTemplate(o.url, {
        symbol: encodeURIComponent(symbol),
        start: encodeURIComponent(o.start),
        end: encodeURIComponent(o.end ?? new Date(stop).toISOString().slice(0, 10)),
        startMs: String(start),
        endMs: String(stop),
        startSec: String(Math.floor(start / 1000)),
        endSec: String(Math.floor(stop / 1000)),
        startYmd: compactYmd(start),
        endYmd: compactYmd(stop),
      });
      const headers = Object.fromEntries(Object.entries(o.headers).map(([k, v]) => [k.toLowerCase(), expandEnv(v, `source.headers.${k}`)]));
      const shown = redactUrl(url);
      const dl = await fetchFile(run, url, headers);
      const gz = !dl.encoding && /\.gz$/i.test(new URL(url).pathname);
      const frame = await parseCsv(symbol, { path: dl.path, encoding: gz ? 'gzip' : dl.encoding, label: shown }, o);
      return { frame, url: shown, etag: dl.etag };
    },
  };
}

const STOOQ_INTERVAL = { '1d': 'd', '1w': 'w', '1M': 'm' } as const;

const STOOQ_TABLE: TableOptions = {
  timeColumn: 'date',
  timeFormat: 'auto',
  columns: {},
  delimiter: ',',
  header: true,
  names: [],
  naValues: ['', 'N/D', 'NA', 'null'],
};

export function stooqSymbol(symbol: string, suffix: string): string {
  const s = symbol.toLowerCase();
  return suffix && !s.includes('.') && !s.startsWith('^') ? s + suffix.toLowerCase() : s;
}

export function stooqSource(o: StooqSource): SourceDriver {
  const { start, end } = dateRange(o);
  const base = o.baseUrl.replace(/\/+$/, '');
  const { type: _t, ...params } = o;
  return {
    type: 'stooq',
    interval: o.interval,
    params: { ...params, end: o.end ?? null },
    openEnded: o.end === undefined,
    defaultCalendar: () => (o.interval === '1d' ? 'weekdays' : 'continuous'),
    async fetch(run, symbol): Promise<Fetched> {
      const s = stooqSymbol(symbol, o.suffix);
      const url = `${base}/q/d/l/?s=${encodeURIComponent(s)}&i=${STOOQ_INTERVAL[o.interval]}&d1=${compactYmd(start)}&d2=${compactYmd(end ?? run.state.now)}`;
      const shown = redactUrl(url);
      const dl = await fetchFile(run, url, {});
      const head = await firstLine({ path: dl.path, encoding: dl.encoding, label: shown });
      if (!/^date[,;]/i.test(head.trim())) {
        const said = head.trim().slice(0, 120);
        if (/no data/i.test(said)) {
          throw sourceError(symbol, `Stooq has no data for "${s}" (${shown})`, 'Check the symbol: Stooq wants e.g. aapl.us, ^spx, eurusd (set source.suffix: ".us" for US stocks), and the date range');
        }
        if (/exceeded|limit/i.test(said)) {
          throw sourceError(symbol, `Stooq refused the download: ${JSON.stringify(said)}`, 'Stooq limits downloads per day; run again tomorrow (completed series are kept)');
        }
        throw sourceError(symbol, `${shown} did not return Stooq CSV; it starts with ${JSON.stringify(said)}`, 'Check source.baseUrl');
      }
      const frame = await parseCsv(symbol, { path: dl.path, encoding: dl.encoding, label: shown }, STOOQ_TABLE);
      return { frame, url: shown, etag: dl.etag };
    },
  };
}
