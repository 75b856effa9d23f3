/**
 * Flaky servers: every fault the issue lists, injected by the local server, against the real
 * plugin (real HTTP, real LMDB checkpoints, real files).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readSeries } from '@runner/core/series';
import { FakeMarketServer, largeCsv } from '../src/testing/fake-server.js';
import { cleanup, contentSha, download } from './helpers.js';

let server: FakeMarketServer;
const BIG = largeCsv(20_000); // ~1.1 MB
let cleanSha: string;

beforeAll(async () => {
  server = await FakeMarketServer.start();
  server.file('/big.csv', { body: BIG });
  const clean = await download({ source: { type: 'http-csv', url: `${server.url}/big.csv` } }, 'BIG');
  cleanSha = contentSha(clean.result!);
});
afterAll(async () => {
  await server.close();
  cleanup();
});

const klines = (extra: Record<string, unknown> = {}) => ({ type: 'binance-klines', baseUrl: server.url, interval: '1h', start: '2024-02-01', end: '2024-02-05', limit: 24, ...extra });
const csvAt = (path: string) => ({ type: 'http-csv', url: `${server.url}${path}` });

describe('status codes', () => {
  test('500s are retried with backoff and the result is the same as without them', async () => {
    const clean = await download({ source: klines() }, 'RETRYUSDT');
    server.fault({ path: /klines\?symbol=RETRYUSDT&.*startTime=1706918400000/, kind: { type: 'status', status: 500 }, times: 2 });
    const r = await download({ source: klines() }, 'RETRYUSDT');
    expect(r.outcome).toBe('completed');
    expect(r.result).toMatchObject({ retries: 2, sha256: clean.result!.sha256 });
    expect(r.events.filter((e) => e.name === 'download:retry')).toHaveLength(2);
    expect(r.logs.find((l) => l.level === 'warn')!.message).toMatch(/^RETRYUSDT: GET http:\/\/127\.0\.0\.1:\d+\/api\/v3\/klines\?symbol=RETRYUSDT.* HTTP 500 \(injected 500\); retry 1 of 4 in \d+ ms$/);
  });

  test('429 with Retry-After waits at least that long', async () => {
    server.fault({ path: '/api/v3/klines?symbol=SLOWUSDT', kind: { type: 'status', status: 429, retryAfter: '1' } });
    const r = await download({ source: klines({ end: '2024-02-02' }) }, 'SLOWUSDT');
    expect(r.outcome).toBe('completed');
    const [first, second] = server.requests('/api/v3/klines?symbol=SLOWUSDT');
    expect(first!.status).toBe(429);
    expect(second!.status).toBe(200);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    expect(r.logs.some((l) => /HTTP 429 .*retry 1 of 4 in 1\d{3} ms \(Retry-After\)/.test(l.message))).toBe(true);
  });

  test('other 4xx are not retried; the error names series, URL, status and what to do', async () => {
    const r = await download({ source: csvAt('/missing/{symbol}.csv') }, 'GONE');
    expect(server.requests('/missing/GONE.csv')).toHaveLength(1);
    expect(r.error).toMatchObject({ code: 'DOWNLOAD_HTTP', retryable: false });
    expect(r.error!.message).toMatch(/^GONE: GET http:\/\/127\.0\.0\.1:\d+\/missing\/GONE\.csv failed: HTTP 404 Not Found \(server said: not found\)\. Check the symbol and the URL or baseUrl/);
  });

  test('when retries run out: the last status, the attempts, and a retryable task error', async () => {
    server.fault({ path: '/always503.csv', kind: { type: 'status', status: 503 }, times: 100 });
    const r = await download({ source: csvAt('/always503.csv') }, 'DOWN');
    expect(server.requests('/always503.csv')).toHaveLength(5);
    expect(r.error).toMatchObject({ code: 'DOWNLOAD_HTTP', retryable: true });
    expect(r.error!.message).toMatch(/^DOWN: GET http:\/\/127\.0\.0\.1:\d+\/always503\.csv failed after 5 attempts: HTTP 503 Service Unavailable \(server said: injected 503\)\. The server keeps failing: check its status, raise retries\.max, or run again later$/);
    expect(r.checkpoints.at(-1)?.type).toBe('failure');
  });

  test('a refused connection is a network error', async () => {
    const gone = await FakeMarketServer.start();
    const url = gone.url;
    await gone.close();
    const r = await download({ source: { type: 'http-csv', url: `${url}/x.csv` }, retries: { max: 1, baseMs: 1, maxMs: 1, maxRetryAfterMs: 0 } }, 'X');
    expect(r.error).toMatchObject({ code: 'DOWNLOAD_NETWORK', retryable: true });
    expect(r.error!.message).toMatch(/^X: GET http:\/\/127\.0\.0\.1:\d+\/x\.csv failed after 2 attempts: connection refused \(is the server up\?\)\. Check the network/);
  });
});

describe('broken bodies', () => {
  test('a connection dropped mid-body resumes with Range + If-Range and fetches each byte about once', async () => {
    // Paced: unpaced, the server would fill the socket buffers far ahead of what the client read.
    server.file('/drop.csv', { body: BIG, bytesPerSecond: 8_000_000 });
    server.fault({ path: '/drop.csv', kind: { type: 'drop', afterBytes: 400_000 } });
    const r = await download({ source: csvAt('/drop.csv') }, 'BIG');
    expect(r.outcome).toBe('completed');
    const reqs = server.requests('/drop.csv');
    expect(reqs).toHaveLength(2);
    expect(reqs[1]).toMatchObject({ status: 206, range: expect.stringMatching(/^bytes=\d+-$/), ifRange: expect.stringMatching(/^"[0-9a-f]+"$/) });
    expect(Number(reqs[1]!.range!.slice(6, -1))).toBeGreaterThan(300_000);
    expect(server.bytesSent('/drop.csv')).toBeLessThanOrEqual(BIG.length + 64 * 1024);
    expect(r.result).toMatchObject({ retries: 1, restarts: 0, changed: false });
    expect(contentSha(r.result!)).toBe(cleanSha);
  });

  test('an ETag that changes between attempts restarts the download instead of splicing two versions', async () => {
    const v2 = largeCsv(15_000, 'V2');
    server.file('/etag.csv', { body: BIG });
    server.fault({ path: '/etag.csv', kind: { type: 'drop', afterBytes: 300_000 }, then: () => server.file('/etag.csv', { body: v2 }) });
    const r = await download({ source: csvAt('/etag.csv') }, 'BIG');
    expect(r.outcome).toBe('completed');
    const reqs = server.requests('/etag.csv');
    expect(reqs[1]).toMatchObject({ status: 200, ifRange: expect.any(String) });
    expect(r.result).toMatchObject({ rows: 15_000, restarts: 1, changed: true });
    expect(r.logs.some((l) => l.level === 'warn' && /the server's copy changed since the download began \(ETag "\w+" → "\w+"\); downloading it again from the start/.test(l.message))).toBe(true);
    expect(r.events.some((e) => e.name === 'download:restart')).toBe(true);
    const s = await readSeries(r.result!.file);
    expect(s.columns.close![0]).toBeCloseTo(Number(v2.toString('utf8', 0, 200).split('\n')[1]!.split(',')[4]), 6);
  });

  test('without a strong ETag a retry starts over rather than guess', async () => {
    server.file('/weak.csv', { body: BIG, etag: 'weak' });
    server.fault({ path: '/weak.csv', kind: { type: 'drop', afterBytes: 200_000 } });
    const r = await download({ source: csvAt('/weak.csv') }, 'BIG');
    expect(contentSha(r.result!)).toBe(cleanSha);
    const reqs = server.requests('/weak.csv');
    expect(reqs[1]!.range).toBeUndefined();
    expect(r.logs.some((l) => /gave no strong ETag to resume with; downloading it again from the start/.test(l.message))).toBe(true);
  });

  test('a truncated JSON page is fetched again', async () => {
    const clean = await download({ source: klines() }, 'TRUNCUSDT');
    server.fault({ path: /klines\?symbol=TRUNCUSDT&.*startTime=1707004800000/, kind: { type: 'truncate', bytes: 300 } });
    const r = await download({ source: klines() }, 'TRUNCUSDT');
    expect(r.result).toMatchObject({ retries: 1, sha256: clean.result!.sha256 });
    expect(r.logs.some((l) => /the response is not valid JSON \(300 bytes.*it may have been cut short/.test(l.message))).toBe(true);
  });
});

describe('slow servers', () => {
  test('headers that do not come in time: timed out and retried', async () => {
    server.file('/late.csv', { body: Buffer.from('date,close\n2024-01-01,1\n') });
    server.fault({ path: '/late.csv', kind: { type: 'delay', ms: 1500 } });
    const t0 = Date.now();
    const r = await download({ source: csvAt('/late.csv'), timeouts: { connectMs: 1000, headersMs: 200, idleMs: 1000 } }, 'LATE');
    expect(r.outcome).toBe('completed');
    expect(Date.now() - t0).toBeLessThan(1200);
    expect(r.logs.some((l) => /no response headers within 200 ms \(timeouts\.headersMs\); retry 1/.test(l.message))).toBe(true);
  });

  test('a body that stalls: idle timeout, then resumed with Range', async () => {
    server.file('/stall.csv', { body: BIG });
    server.fault({ path: '/stall.csv', kind: { type: 'stall', afterBytes: 500_000, ms: 1500 } });
    const r = await download({ source: csvAt('/stall.csv'), timeouts: { connectMs: 1000, headersMs: 1000, idleMs: 200 } }, 'BIG');
    expect(contentSha(r.result!)).toBe(cleanSha);
    expect(server.requests('/stall.csv')[1]).toMatchObject({ status: 206 });
    expect(r.logs.some((l) => /the response body stalled for 200 ms \(timeouts\.idleMs\)/.test(l.message))).toBe(true);
  });

  test('a server that is always too slow fails with the timeout in the message', async () => {
    server.file('/late.csv', { body: Buffer.from('date,close\n2024-01-01,1\n') });
    server.fault({ path: '/late.csv', kind: { type: 'delay', ms: 600 }, times: 10 });
    const r = await download({ source: csvAt('/late.csv'), timeouts: { connectMs: 1000, headersMs: 100, idleMs: 1000 }, retries: { max: 1, baseMs: 1, maxMs: 1, maxRetryAfterMs: 0 }, refresh: true }, 'LATE');
    expect(r.error).toMatchObject({ code: 'DOWNLOAD_NETWORK', retryable: true });
    expect(r.error!.message).toMatch(/^LATE: GET .*\/late\.csv failed after 2 attempts: no response headers within 100 ms \(timeouts\.headersMs\)\. Check the network and the server, raise timeouts or retries\.max/);
    server.clearFaults();
  });
});

describe('rate limit', () => {
  test('requests to one host are spaced by 1/perSecond', async () => {
    const r = await download({ source: klines({ end: '2024-02-11', limit: 24 }), concurrency: 4, rateLimit: { perSecond: 20, burst: 1 } }, 'RATEUSDT');
    expect(r.result!.pages).toBe(10);
    const at = server.requests('/api/v3/klines?symbol=RATEUSDT').map((q) => q.at);
    expect(at).toHaveLength(10);
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(9 * 50 - 20);
  });
});

test('the file written by a faulty download equals a clean one, byte for byte', async () => {
  server.file('/combo.csv', { body: BIG });
  server.fault({ path: '/combo.csv', kind: { type: 'status', status: 500 } });
  server.fault({ path: '/combo.csv', kind: { type: 'drop', afterBytes: 100_000 }, after: 0 });
  server.fault({ path: '/combo.csv', kind: { type: 'status', status: 429, retryAfter: '0' } });
  server.fault({ path: '/combo.csv', kind: { type: 'drop', afterBytes: 300_000 } });
  const r = await download({ source: csvAt('/combo.csv') }, 'BIG');
  expect(r.result).toMatchObject({ retries: 4 });
  expect(contentSha(r.result!)).toBe(cleanSha);
});
