/** Bad input: options the schema rejects, and configurations only the source can judge. */
import { afterAll, describe, expect, test } from 'vitest';
import { validateOptions } from '@runner/core';
import plugin from '../src/index.js';
import { cleanup, download } from './helpers.js';

afterAll(cleanup);

const issues = (o: Record<string, unknown>) => validateOptions(plugin.schema!, o).map((i) => ({ path: i.path.join('.'), message: i.message, hint: i.hint }));

describe('options schema', () => {
  test('defaults: the synthetic source, and each source type gets its own defaults', () => {
    const o: Record<string, unknown> = {};
    expect(issues(o)).toEqual([]);
    expect(o).toMatchObject({
      source: { type: 'synthetic', interval: '1d', bars: 1000, seed: 42 },
      concurrency: 4,
      rateLimit: { perSecond: 10, burst: 1 },
      retries: { max: 6, baseMs: 500, maxMs: 30000 },
      timeouts: { connectMs: 10000, headersMs: 30000, idleMs: 30000 },
      checks: { sort: false, duplicates: 'error', calendar: 'auto' },
      refresh: false,
      maxAge: 'never',
      onChange: 'warn',
    });
    const k: Record<string, unknown> = { source: { type: 'binance-klines' } };
    expect(issues(k)).toEqual([]);
    expect(k.source).toEqual({ type: 'binance-klines', interval: '1h', start: '2024-01-01', baseUrl: 'https://api.binance.com', path: '/api/v3/klines', limit: 1000 });
    const f: Record<string, unknown> = { source: { type: 'fred' } };
    expect(issues(f)).toEqual([]);
    expect(f.source).toMatchObject({ apiKeyEnv: 'FRED_API_KEY', baseUrl: 'https://api.stlouisfed.org', pageSize: 100000 });
  });

  test('unknown keys name the allowed ones for that source type; wrong values say what is expected', () => {
    expect(issues({ source: { type: 'binance-klines', intervl: '1h' } })).toEqual([
      { path: 'source.intervl', message: 'unknown key "intervl"', hint: 'Did you mean "interval"? Allowed keys: type, interval, start, end, baseUrl, path, limit.' },
    ]);
    expect(issues({ source: { type: 'synthetic', url: 'http://x' } })[0]).toMatchObject({ path: 'source.url', message: 'unknown key "url"' });
    expect(issues({ source: { type: 'http-csv' } })).toEqual([expect.objectContaining({ path: 'source.url', message: 'missing required key "url"' })]);
    expect(issues({ source: { type: 'yahoo' } })[0]).toMatchObject({ path: 'source.type', message: expect.stringMatching(/^must be one of "synthetic", "file", "http-csv", "fred", "binance-klines", "stooq" \(got "yahoo"\)/) });
    expect(issues({ source: { type: 'binance-klines', interval: '7m' } })[0]!.message).toMatch(/must be one of "1s", "1m"/);
    expect(issues({ source: { type: 'stooq', start: '2024-1-1' } })[0]).toMatchObject({ path: 'source.start' });
    expect(issues({ concurrency: 0, maxAge: 'a while' }).map((i) => i.path)).toEqual(['concurrency', 'maxAge']);
  });
});

describe('configuration the source judges', () => {
  test('an impossible date, an end before the start, an unknown URL placeholder, no symbol', async () => {
    const bad = await download({ source: { type: 'stooq', start: '2023-02-30' } }, 'X');
    expect(bad.error).toMatchObject({ code: 'DOWNLOAD_CONFIG', retryable: false, message: expect.stringMatching(/^source\.start: "2023-02-30" is not a valid date/) });
    const backwards = await download({ source: { type: 'binance-klines', start: '2024-02-01', end: '2024-01-01' } }, 'X');
    expect(backwards.error!.message).toMatch(/^source\.end \(2024-01-01\) is not after source\.start \(2024-02-01\)/);
    const placeholder = await download({ source: { type: 'http-csv', url: 'http://127.0.0.1:1/{ticker}.csv' } }, 'X');
    expect(placeholder.error!.message).toMatch(/^source\.url: unknown placeholder \{ticker\}\. Use \{symbol\}, \{start\}/);
    const nosymbol = await download({ source: { type: 'synthetic' } }, undefined);
    expect(nosymbol.error).toMatchObject({ code: 'DOWNLOAD_CONFIG', retryable: false });
    expect(nosymbol.error!.message).toMatch(/no symbol to download: the matrix cell has no "symbol" key.*Add `matrix: \{ symbol: \[\.\.\.\] \}`/);
    const headerless = await download({ source: { type: 'file', path: '/nonexistent/{symbol}.csv', header: false } }, 'X');
    expect(headerless.error!.message).toMatch(/^X: no file at \/nonexistent\/X\.csv/);
  });
});
