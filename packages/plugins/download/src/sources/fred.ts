/**
 * FRED series observations: GET <baseUrl>/fred/series/observations?series_id&api_key&file_type=json
 * &observation_start&observation_end&limit&offset&sort_order=asc. The first page's `count` gives
 * the page count; later pages are fetched in parallel by offset. "." marks a missing value.
 */
import { configError, dataError } from '../errors.js';
import { fetchPages } from '../fetch/paged.js';
import { redactUrl } from '../paths.js';
import type { FredSource } from '../schema.js';
import { parseDate, ymd } from '../time.js';
import { dateRange, readJson } from './common.js';
import { dailyWeekdays, type Fetched, type SourceDriver } from './types.js';

export function fredSource(o: FredSource): SourceDriver {
  const { start, end } = dateRange(o);
  const base = o.baseUrl.replace(/\/+$/, '');
  const { type: _t, apiKeyEnv: _k, pageSize: _p, ...params } = o;
  return {
    type: 'fred',
    params: { ...params, end: o.end ?? null },
    openEnded: o.end === undefined,
    defaultCalendar: dailyWeekdays,
    async fetch(run, symbol): Promise<Fetched> {
      const key = process.env[o.apiKeyEnv];
      if (!key) {
        throw configError(
          `${symbol}: FRED needs an API key in the environment variable ${o.apiKeyEnv}, which is not set`,
          `Get a free key at https://fred.stlouisfed.org/docs/api/api_key.html and set ${o.apiKeyEnv} for \`runner start\`, or point source.apiKeyEnv at the variable that holds it`,
        );
      }
      const q = new URLSearchParams({
        series_id: symbol,
        api_key: key,
        file_type: 'json',
        observation_start: ymd(start),
        observation_end: ymd(end ?? run.state.now),
        sort_order: 'asc',
        units: o.units,
        limit: String(o.pageSize),
      });
      if (o.frequency) q.set('frequency', o.frequency);
      const urlOf = (k: number) => `${base}/fred/series/observations?${q.toString()}&offset=${k * o.pageSize}`;
      const describe = (k: number) => `page ${k + 1} (offset ${k * o.pageSize})`;
      const frame = await fetchPages(run, {
        columns: ['value'],
        describe,
        fetchPage: async (k, signal) => {
          const body = (await run.fetch(urlOf(k), {}, (res) => readJson(res, run), { signal })) as { count?: unknown; observations?: unknown };
          if (!body || !Array.isArray(body.observations)) throw dataError(symbol, describe(k), 'the response has no observations list', 'Check baseUrl: it must point at the FRED API');
          const obs = body.observations as { date?: unknown; value?: unknown }[];
          const rows = new Float64Array(obs.length * 2);
          obs.forEach((x, j) => {
            const t = typeof x.date === 'string' ? parseDate(x.date) : NaN;
            if (Number.isNaN(t)) throw dataError(symbol, `${describe(k)} row ${j + 1}`, `date ${JSON.stringify(x.date)} is not a date`);
            const text = String(x.value ?? '');
            const v = text === '.' || text === '' ? NaN : Number(text);
            if (Number.isNaN(v) && text !== '.' && text !== '') throw dataError(symbol, `${describe(k)} row ${j + 1}`, `value ${JSON.stringify(x.value)} is not a number or "."`);
            rows[j * 2] = t;
            rows[j * 2 + 1] = v;
          });
          const count = Number(body.count);
          return { rows, n: obs.length, total: Number.isFinite(count) ? Math.max(1, Math.ceil(count / o.pageSize)) : undefined };
        },
      });
      return { frame, url: redactUrl(urlOf(0)) };
    },
  };
}
