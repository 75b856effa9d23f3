/**
 * Columnar time series on disk as Arrow IPC files: the format the download plugin writes and the
 * trainer, backtester and paper trader read, as typed arrays without re-parsing.
 *
 * @example
 * ```ts
 * import { readSeries, writeSeries } from '@runner/core/series';
 *
 * await writeSeries('data/AAPL.arrow', { time: new Float64Array([...]), close: new Float64Array([...]) }, { symbol: 'AAPL' });
 * const s = await readSeries('data/AAPL.arrow');
 * s.columns.close; // Float64Array
 * ```
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/fs.js';

export type NumericArray = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

export interface Series {
  rows: number;
  /** Column name → values. `time` is epoch milliseconds by convention. */
  columns: Record<string, NumericArray>;
  /** String metadata stored with the file (symbol, source, retrievedAt, ...). */
  meta: Record<string, string>;
}

/** Writes columns (all the same length) as an Arrow IPC file, atomically; returns size and sha256. */
export async function writeSeries(path: string, columns: Record<string, NumericArray>, meta: Record<string, string> = {}): Promise<{ size: number; sha256: string; rows: number }> {
  const arrow = await import('apache-arrow');
  const names = Object.keys(columns);
  const rows = names.length > 0 ? columns[names[0]!]!.length : 0;
  for (const n of names) {
    if (columns[n]!.length !== rows) throw new Error(`writeSeries: column ${n} has ${columns[n]!.length} values, expected ${rows}`);
  }
  const base = arrow.tableFromArrays(columns as Record<string, Float64Array>);
  const schema = new arrow.Schema(base.schema.fields, new Map(Object.entries(meta)));
  const table = new arrow.Table(schema, base.batches);
  const bytes = arrow.tableToIPC(table, 'file');
  const { size, sha256 } = await writeFileAtomic(path, bytes);
  return { size, sha256, rows };
}

/** Reads an Arrow IPC file written by {@link writeSeries} (or any Arrow file of numeric columns). */
export async function readSeries(path: string, options: { columns?: string[] } = {}): Promise<Series> {
  const arrow = await import('apache-arrow');
  const bytes = await readFile(path);
  const table = arrow.tableFromIPC(bytes);
  const columns: Record<string, NumericArray> = {};
  for (const field of table.schema.fields) {
    if (options.columns && !options.columns.includes(field.name)) continue;
    const vec = table.getChild(field.name);
    if (!vec) continue;
    const arr = vec.toArray() as unknown;
    if (!ArrayBuffer.isView(arr)) throw new Error(`readSeries: column ${field.name} of ${path} is not numeric`);
    columns[field.name] = arr as NumericArray;
  }
  return { rows: table.numRows, columns, meta: Object.fromEntries(table.schema.metadata) };
}
