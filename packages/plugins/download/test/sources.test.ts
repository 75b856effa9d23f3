import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readSeries } from '@runner/core/series';
import { FakeMarketServer } from '../src/testing/fake-server.js';
import { cleanup, download, fileSha, tempDir } from './helpers.js';

let server: FakeMarketServer;
beforeAll(async () => {
  server = await FakeMarketServer.start();
  process.env.FRED_API_KEY = server.fredKey;
});
afterAll(async () => {
  await server.close();
  cleanup();
});

function strictlyIncreasing(t: ArrayLike<number>): boolean {
  for (let i = 1; i < t.length; i++) if (!(t[i]! > t[i - 1]!)) return false;
  return true;
}

describe('synthetic', () => {
  test('same seed and symbol give the same bytes; the result opens as typed arrays', async () => {
    const opts = { source: { type: 'synthetic', interval: '1h', bars: 500, seed: 7 } };
    const a = await download(opts, 'AAPL');
    const b = await download(opts, 'AAPL');
    expect(a.outcome).toBe('completed');
    const r = a.result!;
    expect(r).toMatchObject({ symbol: 'AAPL', source: 'synthetic', rows: 500, interval: '1h', gaps: 0, skipped: false, columns: ['time', 'open', 'high', 'low', 'close', 'volume'] });
    expect(r.file).toMatch(/\/data\/synthetic\/1h-[0-9a-f]{12}\/AAPL\.arrow$/);
    expect(r.start).toBe('2020-01-01T00:00:00.000Z');
    expect(r.end).toBe('2020-01-21T19:00:00.000Z');
    expect(fileSha(r.file)).toBe(r.sha256);
    expect(b.result!.sha256).toBe(r.sha256);
    const s = await readSeries(r.file);
    expect(s.columns.close).toBeInstanceOf(Float64Array);
    expect(strictlyIncreasing(s.columns.time!)).toBe(true);
    const { open, high, low, close } = s.columns as Record<string, Float64Array>;
    for (let i = 0; i < 500; i++) {
      expect(high[i]!).toBeGreaterThanOrEqual(Math.max(open[i]!, close[i]!));
      expect(low[i]!).toBeLessThanOrEqual(Math.min(open[i]!, close[i]!));
      if (i > 0) expect(open[i]).toBe(close[i - 1]);
    }
    expect(s.meta).toMatchObject({ symbol: 'AAPL', source: 'synthetic', interval: '1h', rows: '500' });
    const manifest = JSON.parse(readFileSync(r.manifest, 'utf8'));
    expect(manifest).toMatchObject({ symbol: 'AAPL', sha256: r.sha256, rows: 500, retrievedAt: r.retrievedAt });
    const other = await download({ source: { ...opts.source, seed: 8 } }, 'AAPL');
    const msft = await download(opts, 'MSFT');
    expect(other.result!.sha256).not.toBe(r.sha256);
    expect(msft.result!.sha256).not.toBe(r.sha256);
  });

  test('a rerun with the same source skips the stored file; end instead of bars works too', async () => {
    const dir = tempDir();
    const opts = { source: { type: 'synthetic', interval: '1d', start: '2024-01-01', end: '2024-02-01' } };
    const first = await download(opts, 'BTC', { dir, task: { id: 'a/cycle=1' } });
    expect(first.result).toMatchObject({ rows: 31, skipped: false });
    const again = await download(opts, 'BTC', { dir, task: { id: 'b/cycle=1' } });
    expect(again.result).toMatchObject({ rows: 31, skipped: true, bytesFetched: 0, file: first.result!.file, sha256: first.result!.sha256 });
    expect(again.logs.some((l) => /complete and current; skipped/.test(l.message))).toBe(true);
    const refreshed = await download({ ...opts, refresh: true }, 'BTC', { dir, task: { id: 'c/cycle=1' } });
    expect(refreshed.result).toMatchObject({ skipped: false, changed: false, sha256: first.result!.sha256 });
  });

  test('a symbols list downloads each series and lists them', async () => {
    const r = await download({ symbols: ['A', 'B', 'C'], source: { type: 'synthetic', bars: 10 } }, undefined);
    const res = r.result as unknown as { series: { symbol: string; rows: number }[]; rows: number; skipped: number };
    expect(res.series.map((s) => s.symbol)).toEqual(['A', 'B', 'C']);
    expect(res.rows).toBe(30);
    expect(res.skipped).toBe(0);
  });
});

describe('binance-klines', () => {
  const source = () => ({ type: 'binance-klines', baseUrl: server.url, interval: '1h', start: '2024-01-01', end: '2024-01-15', limit: 50 });

  test('pages by time window, in parallel, into one increasing series', async () => {
    const a = await download({ source: source(), concurrency: 4 }, 'BTCUSDT');
    expect(a.outcome).toBe('completed');
    expect(a.result).toMatchObject({ rows: 14 * 24, pages: 7, requests: 7, gaps: 0, interval: '1h', start: '2024-01-01T00:00:00.000Z', end: '2024-01-14T23:00:00.000Z' });
    const s = await readSeries(a.result!.file);
    expect(strictlyIncreasing(s.columns.time!)).toBe(true);
    const serial = await download({ source: source(), concurrency: 1 }, 'BTCUSDT');
    expect(serial.result!.sha256).toBe(a.result!.sha256);
    const progress = a.progress.filter((p) => p.total === 7);
    expect(progress.at(-1)).toMatchObject({ step: 7, total: 7 });
    expect(progress.at(-1)!.metrics).toMatchObject({ pages: 7, rows: 336 });
    expect(progress.at(-1)!.metrics!.bytes).toBeGreaterThan(0);
  });

  test('a symbol listed after the start gives a later first bar; an unknown one fails without retrying', async () => {
    server.listedAt.set('NEWUSDT', Date.UTC(2024, 0, 10));
    const r = await download({ source: source() }, 'NEWUSDT');
    expect(r.result).toMatchObject({ start: '2024-01-10T00:00:00.000Z', rows: 5 * 24 });
    const bad = await download({ source: source() }, 'bad-symbol');
    expect(bad.outcome).toBe('failed');
    expect(bad.error).toMatchObject({ code: 'DOWNLOAD_HTTP', retryable: false });
    expect(bad.error!.message).toMatch(/^bad-symbol: GET http:\/\/127\.0\.0\.1:\d+\/api\/v3\/klines\?symbol=bad-symbol&interval=1h&startTime=\d+&endTime=\d+&limit=50 failed: HTTP 400 Bad Request \(server said: Invalid symbol\.\)\. The server rejected the request; check the symbol/);
    // Pages in flight may each get their 400, but none is asked for twice.
    const paths = server.requests('/api/v3/klines?symbol=bad').map((r) => r.path);
    expect(paths.length).toBeGreaterThan(0);
    expect(new Set(paths).size).toBe(paths.length);
  });
});

describe('fred', () => {
  const source = () => ({ type: 'fred', baseUrl: server.url, start: '2000-01-01', end: '2010-12-31', pageSize: 25 });

  test('observations paged by offset; "." is NaN; the key never appears in results', async () => {
    const r = await download({ source: source() }, 'DGS10');
    expect(r.outcome).toBe('completed');
    expect(r.result).toMatchObject({ rows: 132, pages: 6, columns: ['time', 'value'], start: '2000-01-01T00:00:00.000Z', end: '2010-12-01T00:00:00.000Z', gaps: 0 });
    const s = await readSeries(r.result!.file);
    const v = s.columns.value!;
    const missing = Array.from(v).filter((x) => Number.isNaN(x)).length;
    expect(missing).toBe(19); // every 7th month is "." in the fake
    expect(JSON.stringify(r.result)).not.toContain(server.fredKey);
    expect(r.result!.url).toContain('api_key=***');
    expect(readFileSync(r.result!.manifest, 'utf8')).not.toContain(server.fredKey);
  });

  test('a missing API key is a config error naming the variable; a wrong key is a 400 without retries', async () => {
    const none = await download({ source: { ...source(), apiKeyEnv: 'NO_SUCH_FRED_KEY' } }, 'DGS10');
    expect(none.error).toMatchObject({ code: 'DOWNLOAD_CONFIG', retryable: false });
    expect(none.error!.message).toMatch(/^DGS10: FRED needs an API key in the environment variable NO_SUCH_FRED_KEY, which is not set\. Get a free key/);
    process.env.WRONG_FRED_KEY = 'wrong-secret';
    const wrong = await download({ source: { ...source(), apiKeyEnv: 'WRONG_FRED_KEY' } }, 'DGS10');
    expect(wrong.error).toMatchObject({ code: 'DOWNLOAD_HTTP', retryable: false });
    expect(wrong.error!.message).toContain('api_key=***');
    expect(wrong.error!.message).not.toContain('wrong-secret');
    expect(wrong.error!.message).toMatch(/HTTP 400 Bad Request \(server said: Bad Request\.  The value for variable api_key is not registered/);
    expect(wrong.error!.message).toMatch(/check the symbol, dates and interval/);
  });
});

describe('stooq and http-csv', () => {
  test('stooq daily CSV: weekdays only, no gaps on the weekday calendar', async () => {
    const r = await download({ source: { type: 'stooq', baseUrl: server.url, suffix: '.us', start: '2024-01-01', end: '2024-03-01' } }, 'AAPL');
    expect(r.outcome).toBe('completed');
    expect(r.result).toMatchObject({ rows: 45, gaps: 0, columns: ['time', 'open', 'high', 'low', 'close', 'volume'] });
    expect(r.result!.url).toMatch(/\/q\/d\/l\/\?s=aapl\.us&i=d&d1=20240101&d2=20240301$/);
    const s = await readSeries(r.result!.file);
    for (const t of s.columns.time!) expect([0, 6]).not.toContain(new Date(t).getUTCDay());
  });

  test('stooq "No data" is a clear error', async () => {
    const r = await download({ source: { type: 'stooq', baseUrl: server.url, start: '2024-01-01', end: '2024-03-01' } }, 'zzzz');
    expect(r.error).toMatchObject({ code: 'DOWNLOAD_SOURCE', retryable: false });
    expect(r.error!.message).toMatch(/^zzzz: Stooq has no data for "zzzz".*Check the symbol/);
  });

  test('http-csv fills the URL template and sends headers with ${env:...} values', async () => {
    process.env.DL_TEST_TOKEN = 'tok-123';
    const r = await download(
      { source: { type: 'http-csv', url: `${server.url}/csv/{symbol}.csv?start={start}&end={end}`, start: '2021-03-01', end: '2021-03-31', headers: { Authorization: 'Bearer ${env:DL_TEST_TOKEN}' } } },
      'EURUSD',
    );
    expect(r.outcome).toBe('completed');
    expect(r.result).toMatchObject({ rows: 31, columns: ['time', 'open', 'high', 'low', 'close', 'volume'], gaps: 0 });
    expect(server.requests('/csv/EURUSD.csv').at(-1)!.path).toBe('/csv/EURUSD.csv?start=2021-03-01&end=2021-03-31');
    const missing = await download({ source: { type: 'http-csv', url: `${server.url}/csv/{symbol}.csv`, headers: { 'x-key': '${env:DL_NOT_SET}' } } }, 'EURUSD');
    expect(missing.error).toMatchObject({ code: 'DOWNLOAD_CONFIG' });
    expect(missing.error!.message).toMatch(/source\.headers\.x-key needs the environment variable DL_NOT_SET, which is not set/);
  });
});

test('http-csv: gzip (as Content-Encoding or a .gz file), BOM, CRLF, quotes and ; as delimiter', async () => {
  const text = '\uFEFF"Date";"Close";"Note"\r\n2024-01-01;1.5;"a; b"\r\n2024-01-02;"2.5";"say ""hi"""\r\n';
  server.file('/enc.csv', { body: gzipSync(text), contentEncoding: 'gzip' });
  server.file('/file.csv.gz', { body: gzipSync(text), contentType: 'application/gzip' });
  for (const path of ['/enc.csv', '/file.csv.gz']) {
    const r = await download({ source: { type: 'http-csv', url: `${server.url}${path}` } }, 'ENC');
    expect(r.outcome, r.error?.message).toBe('completed');
    expect(r.result).toMatchObject({ rows: 2, columns: ['time', 'close'] });
    const s = await readSeries(r.result!.file);
    expect(Array.from(s.columns.close!)).toEqual([1.5, 2.5]);
  }
});

describe('file', () => {
  test('CSV, Parquet and Arrow inputs give the same series', async () => {
    const dir = tempDir();
    const times = [Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2), Date.UTC(2024, 0, 3)];
    writeFileSync(join(dir, 'X.csv'), 'Date,Close,Adj Close,Ticker\n2024-01-01,1.5,1.4,X\n2024-01-02,NA,2.4,X\n2024-01-03,3.5,3.4,X\n');
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const pq = parquetWriteBuffer({
      columnData: [
        { name: 'Date', data: times.map((t) => new Date(t)), type: 'TIMESTAMP' },
        { name: 'Close', data: [1.5, null, 3.5], type: 'DOUBLE' },
        { name: 'Adj Close', data: [1.4, 2.4, 3.4], type: 'DOUBLE' },
        { name: 'Ticker', data: ['X', 'X', 'X'], type: 'STRING' },
      ],
    });
    writeFileSync(join(dir, 'X.parquet'), new Uint8Array(pq));
    const arrow = await import('apache-arrow');
    const table = new arrow.Table({
      Date: arrow.vectorFromArray(times.map((t) => new Date(t)), new arrow.TimestampMillisecond()),
      Close: arrow.vectorFromArray([1.5, null, 3.5], new arrow.Float64()),
      'Adj Close': arrow.vectorFromArray([1.4, 2.4, 3.4], new arrow.Float64()),
    });
    writeFileSync(join(dir, 'X.arrow'), arrow.tableToIPC(table, 'file'));
    const got: Record<string, unknown>[] = [];
    for (const ext of ['csv', 'parquet', 'arrow']) {
      const r = await download({ source: { type: 'file', path: join(dir, `{symbol}.${ext}`) } }, 'X');
      expect(r.outcome, r.error?.message).toBe('completed');
      expect(r.result!.columns).toEqual(['time', 'close', 'adj_close']);
      const s = await readSeries(r.result!.file);
      got.push({ time: Array.from(s.columns.time!), close: Array.from(s.columns.close!), adj: Array.from(s.columns.adj_close!) });
    }
    expect(got[0]).toEqual({ time: times, close: [1.5, NaN, 3.5], adj: [1.4, 2.4, 3.4] });
    expect(got[1]).toEqual(got[0]);
    expect(got[2]).toEqual(got[0]);
  });

  test('a malformed row names its line, column and value', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'BAD.csv'), 'time,close\n2024-01-01,1\n2024-01-02,2\n2024-01-03,1,5.3x\n');
    const r1 = await download({ source: { type: 'file', path: join(dir, 'BAD.csv') } }, 'BAD');
    expect(r1.error).toMatchObject({ code: 'DOWNLOAD_DATA', retryable: false });
    expect(r1.error!.message).toMatch(/^BAD: line 4 of .*BAD\.csv: 3 fields where the header has 2\. Fix the row, or check the delimiter/);
    writeFileSync(join(dir, 'BAD.csv'), 'time,close\n2024-01-01,1\n2024-01-02,2\n2024-01-03,"1,5"\n');
    const r2 = await download({ source: { type: 'file', path: join(dir, 'BAD.csv') } }, 'BAD');
    expect(r2.error!.message).toMatch(/^BAD: line 4 of .*BAD\.csv: column "close" is "1,5", which is not a number\. Numbers must use a dot/);
    writeFileSync(join(dir, 'BAD.csv'), 'time,close\n2024-01-01,1\n2024-13-02,2\n');
    const r3 = await download({ source: { type: 'file', path: join(dir, 'BAD.csv') } }, 'BAD');
    expect(r3.error!.message).toMatch(/^BAD: line 3 of .*: time column "time" is "2024-13-02", which is not a date or timestamp/);
    writeFileSync(join(dir, 'BAD.csv'), 'time,close\n2024-01-02,1\n2024-01-01,2\n');
    const r4 = await download({ source: { type: 'file', path: join(dir, 'BAD.csv') } }, 'BAD');
    expect(r4.error!.message).toMatch(/^BAD: line 3 of .*: time 2024-01-01T00:00:00.000Z comes before 2024-01-02T00:00:00.000Z on line 2; timestamps must increase\. If the source lists newest first, set checks\.sort: true/);
    const r5 = await download({ source: { type: 'file', path: join(dir, 'BAD.csv') }, checks: { sort: true, duplicates: 'error', calendar: 'auto' } }, 'BAD');
    expect(r5.outcome).toBe('completed');
    const r6 = await download({ source: { type: 'file', path: join(dir, 'NOPE.csv') } }, 'BAD');
    expect(r6.error!.message).toMatch(/^BAD: no file at .*NOPE\.csv/);
    const r7 = await download({ source: { type: 'file', path: join(dir, 'BAD.csv'), timeColumn: 'when' } }, 'BAD');
    expect(r7.error!.message).toMatch(/has no column "when" \(timeColumn\)\. Its columns are "time", "close"/);
  });

  test('a changed input file is converted again and the revision is reported', async () => {
    const dir = tempDir();
    const path = join(dir, 'R.csv');
    writeFileSync(path, 'date,close\n2024-01-01,1\n2024-01-02,2\n');
    const run = tempDir();
    const a = await download({ source: { type: 'file', path } }, 'R', { dir: run, task: { id: 'a/cycle=1' } });
    expect(a.result).toMatchObject({ rows: 2, changed: false });
    writeFileSync(path, 'date,close\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n');
    const b = await download({ source: { type: 'file', path } }, 'R', { dir: run, task: { id: 'b/cycle=1' } });
    expect(b.result).toMatchObject({ rows: 3, changed: false, skipped: false });
    writeFileSync(path, 'date,close\n2024-01-01,1\n2024-01-02,2.5\n2024-01-03,3\n');
    const c = await download({ source: { type: 'file', path } }, 'R', { dir: run, task: { id: 'c/cycle=1' } });
    expect(c.result).toMatchObject({ rows: 3, changed: true });
    expect(c.logs.some((l) => l.level === 'warn' && /revised data already stored .*1 row differ from 2024-01-02T00:00:00.000Z on/.test(l.message))).toBe(true);
    expect(c.events.find((e) => e.name === 'download:changed')?.data).toMatchObject({ symbol: 'R', rows: 1 });
    writeFileSync(path, 'date,close\n2024-01-01,1\n2024-01-02,9\n2024-01-03,3\n');
    const d = await download({ source: { type: 'file', path }, onChange: 'fail' }, 'R', { dir: run, task: { id: 'd/cycle=1' } });
    expect(d.error).toMatchObject({ code: 'DOWNLOAD_CHANGED', retryable: false });
    expect((await readSeries(c.result!.file)).columns.close![1]).toBe(2.5);
  });
});
