/**
 * What a download task returns (stored in the run store, shown by `runner tasks --json`). Later
 * stages open the series with `readSeries(result.file)` from `@runner/core/series`.
 *
 * @example
 * ```ts
 * import { readSeries } from '@runner/core/series';
 * const { file } = ctx.upstream.download.result as SeriesResult;
 * const s = await readSeries(file); // s.columns.close: Float64Array
 * ```
 */
import type { SourceType } from './schema.js';

export interface SeriesResult {
  symbol: string;
  source: SourceType;
  /** Absolute path of the Arrow IPC file. */
  file: string;
  /** Absolute path of its manifest (`<symbol>.meta.json`: retrievedAt, source options, checksums). */
  manifest: string;
  rows: number;
  /** First and last timestamps, ISO 8601 UTC. */
  start: string;
  end: string;
  /** sha256 of the Arrow file's bytes. */
  sha256: string;
  /** Column names in file order; `time` first (epoch ms). */
  columns: string[];
  interval?: string;
  /** Spacings wider than 1.5 intervals (or, on the weekday calendar, a missing weekday). */
  gaps: number;
  /** Body bytes received for this series by this attempt and the ones it resumed from. */
  bytesFetched: number;
  /** True when a complete file from the same source was reused without downloading. */
  skipped: boolean;
  /** When the stored data was retrieved, ISO 8601. */
  retrievedAt: string;
  /** Pages fetched (paginated sources). */
  pages: number;
  requests: number;
  retries: number;
  /** Downloads started over because the server's copy changed midway. */
  restarts: number;
  /** True when this download replaced stored data that the source has since revised. */
  changed: boolean;
  /** Where the data came from, without secrets (a path for the file source). */
  url?: string;
}

/** The result of a task with a `symbols` list. */
export interface ListResult {
  series: SeriesResult[];
  rows: number;
  bytesFetched: number;
  /** How many series were reused without downloading. */
  skipped: number;
}
