/**
 * Binance-style klines: GET <baseUrl><path>?symbol&interval&startTime&endTime&limit returns up to
 * `limit` arrays [openTime, open, high, low, close, volume, closeTime, ...]. The range is cut into
 * windows of exactly `limit` bars from `start`, so every page is known in advance: pages can be
 * fetched in parallel, and a resumed download knows which page comes next.
 */
import { dataError } from '../errors.js';
import { fetchPages } from '../fetch/paged.js';
import type { BinanceSource } from '../schema.js';
import { addIntervals, iso, nominalMs, parseInterval } from '../time.js';
import { readJson, dateRange } from './common.js';
import type { Fetched, SourceDriver } from './types.js';

const COLUMNS = ['open', 'high', 'low', 'close', 'volume'];

export function binanceSource(o: BinanceSource): SourceDriver {
  const iv = parseInterval(o.interval);
  const { start, end } = dateRange(o);
  const base = o.baseUrl.replace(/\/+$/, '');
  const { type: _t, ...params } = o;
  return {
    type: 'binance-klines',
    interval: o.interval,
    params: { ...params, end: o.end ?? null },
    openEnded: o.end === undefined,
    defaultCalendar: () => 'continuous',
    async fetch(run, symbol): Promise<Fetched> {
      // Up to the end, or to "now" when the download began: the bar still forming is left out.
      const now = run.state.now;
      const stop = Math.min(end ?? now, now);
      const windowStart = (k: number) => addIntervals(start, iv, k * o.limit);
      let total = 0;
      if (iv.unit === 'M') while (windowStart(total) < stop) total++;
      else total = stop > start ? Math.ceil((stop - start) / (o.limit * nominalMs(iv))) : 0;
      const urlOf = (k: number) => {
        const ws = windowStart(k);
        const we = Math.min(windowStart(k + 1), stop) - 1;
        return { ws, we, url: `${base}${o.path}?symbol=${encodeURIComponent(symbol)}&interval=${o.interval}&startTime=${ws}&endTime=${we}&limit=${o.limit}` };
      };
      const describe = (k: number) => `page ${k + 1} (from ${iso(windowStart(k))})`;
      const frame = await fetchPages(run, {
        columns: COLUMNS,
        total,
        describe,
        fetchPage: async (k, signal) => {
          const { ws, we, url } = urlOf(k);
          const body = await run.fetch(url, {}, (res) => readJson(res, run), { signal });
          if (!Array.isArray(body)) throw dataError(symbol, describe(k), `expected a JSON array of klines, got ${typeof body}`, 'Check baseUrl and path: they must point at a klines endpoint');
          const rows = new Float64Array(body.length * 6);
          let n = 0;
          for (let j = 0; j < body.length; j++) {
            const k0 = body[j] as unknown[];
            if (!Array.isArray(k0) || k0.length < 6) throw dataError(symbol, `${describe(k)} row ${j + 1}`, 'a kline must be an array [openTime, open, high, low, close, volume, ...]');
            const t = Number(k0[0]);
            if (!Number.isFinite(t)) throw dataError(symbol, `${describe(k)} row ${j + 1}`, `open time ${JSON.stringify(k0[0])} is not a number`);
            if (t < ws || t > we) {
              throw dataError(symbol, `${describe(k)} row ${j + 1}`, `open time ${iso(t)} is outside the requested window ${iso(ws)} – ${iso(we)}`, 'The server ignores startTime/endTime; check baseUrl and path', true);
            }
            // Leave out the bar still forming: its values change until it closes.
            if (addIntervals(t, iv, 1) > now) continue;
            rows[n * 6] = t;
            for (let c = 1; c <= 5; c++) {
              const v = Number(k0[c]);
              if (Number.isNaN(v)) throw dataError(symbol, `${describe(k)} row ${j + 1}`, `${COLUMNS[c - 1]} is ${JSON.stringify(k0[c])}, which is not a number`);
              rows[n * 6 + c] = v;
            }
            n++;
          }
          return { rows: rows.subarray(0, n * 6), n };
        },
      });
      return { frame, url: urlOf(0).url.replace(/startTime=\d+&endTime=\d+/, 'startTime=…&endTime=…') };
    },
  };
}
