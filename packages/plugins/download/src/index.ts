/**
 * The download plugin: market and macro series into columnar files in the shared data
 * directory, resuming partial downloads, surviving flaky servers, never leaving a half-written
 * file. See docs/download.md.
 *
 * @example
 * ```yaml
 * matrix: { symbol: [BTCUSDT, ETHUSDT] }
 * stages:
 *   - id: download
 *     plugin: download
 *     per: [symbol]
 *     options:
 *       source: { type: binance-klines, interval: 1h, start: 2024-01-01, end: 2024-06-01 }
 * ```
 */
import { definePlugin } from '@runner/core';
import { optionsSchema, OPERATIONAL_OPTIONS, type DownloadOptions } from './schema.js';
import type { ListResult, SeriesResult } from './result.js';

export type { DownloadOptions, SourceOptions, SourceType } from './schema.js';
export type { SeriesResult, ListResult } from './result.js';

export default definePlugin<DownloadOptions, SeriesResult | ListResult>({
  name: 'download',
  version: '1.0.0',
  description: 'Downloads market and macro series (synthetic, file, http-csv, fred, binance-klines, stooq) into Arrow files, with resume, retries and atomic writes.',
  schema: optionsSchema,
  // How a download runs (parallelism, retries, timeouts, what to do on a revision) never changes
  // what it stores, so changing these keeps the checkpoint and its partial data.
  resumeSafe: [...OPERATIONAL_OPTIONS, 'onChange'],
  async run(ctx) {
    const { runDownload } = await import('./run.js');
    return runDownload(ctx);
  },
});
