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
import type { DataArgs } from './commands/data.js';
import type { ListResult, SeriesResult } from './result.js';

export type { DownloadOptions, SourceOptions, SourceType } from './schema.js';
export type { SeriesResult, ListResult } from './result.js';

export default definePlugin<DownloadOptions, SeriesResult | ListResult>({
  name: 'download',
  version: '1.0.0',
  description: 'Downloads market and macro series (synthetic, file, http-csv, fred, binance-klines, stooq) into Arrow files, with resume, retries and atomic writes.',
  schema: optionsSchema,
  // How a download runs (parallelism, retries, timeouts, what to do on a revision) never changes
  // what it stores: changing these keeps the checkpoint and its partial data, and does not rerun
  // a finished download or anything downstream of it.
  operational: [...OPERATIONAL_OPTIONS, 'onChange'],
  commands: [
    {
      command: 'data [spec]',
      describe: 'List the series in the data directory (source, symbol, rows, range, size, age); --verify checks their checksums',
      builder: (y) =>
        y
          .positional('spec', { type: 'string', describe: "A job spec: list its dataDir (default: ./data, or --dir)" })
          .option('dir', { type: 'string', describe: 'The data directory to list' })
          .option('verify', { type: 'boolean', describe: 'Check every file against the sha256 in its manifest (exit 1 if one differs)' })
          .option('source', { type: 'string', describe: 'Only this source type, e.g. binance-klines' })
          .option('symbol', { type: 'string', describe: 'Only symbols matching this pattern (* is a wildcard)' })
          .option('json', { type: 'boolean', describe: 'Print machine-readable JSON' }),
      handler: async (args: DataArgs) => {
        const { dataHandler } = await import('./commands/data.js');
        await dataHandler(args);
      },
    },
  ],
  async run(ctx) {
    const { runDownload } = await import('./run.js');
    return runDownload(ctx);
  },
});
