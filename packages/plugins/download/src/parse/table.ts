/**
 * Parquet (hyparquet: pure JavaScript, no native build, works on Node 20; zstd/gzip/brotli/lz4
 * through hyparquet-compressors) and Arrow IPC (apache-arrow, file or stream format) → frame.
 */
import { readFile } from 'node:fs/promises';
import { sourceError } from '../errors.js';
import type { TableOptions } from '../schema.js';
import { F64Builder, type Frame } from '../series/frame.js';
import { epochAuto, parseTimestamp } from '../time.js';
import { badTime, cellNumber, notANumber, planColumns } from './columns.js';

const EPOCH_SCALE = { s: 1000, ms: 1, us: 1e-3, ns: 1e-6 } as const;

/** A column as values of any of the types readers hand out. */
type Cell = number | bigint | string | boolean | Date | null | undefined;

function timeOf(v: Cell, format: TableOptions['timeFormat'], nativeMs: boolean): number {
  if (v === null || v === undefined) return NaN;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string') return parseTimestamp(v.trim(), format);
  const n = typeof v === 'bigint' ? Number(v) : Number(v);
  if (nativeMs) return n;
  if (format === 'auto') return epochAuto(n);
  if (format === 'iso') return NaN;
  if (format === 'yyyymmdd') return parseTimestamp(String(n), 'yyyymmdd');
  return n * EPOCH_SCALE[format];
}

function frameFromColumns(
  symbol: string,
  label: string,
  header: string[],
  n: number,
  column: (i: number) => { get(row: number): Cell },
  o: TableOptions,
  timeIsNativeMs: (i: number) => boolean,
): Frame {
  const plan = planColumns(symbol, label, header, o);
  const na = new Set(o.naValues);
  const where = (row: number) => `row ${row + 1} of ${label}`;
  const tc = column(plan.timeIndex);
  const native = timeIsNativeMs(plan.timeIndex);
  const time = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const v = tc.get(r);
    const t = timeOf(v, o.timeFormat, native);
    if (Number.isNaN(t)) throw badTime(symbol, where(r), header[plan.timeIndex]!, String(v), o.timeFormat);
    time[r] = t;
  }
  const names: string[] = [];
  const cols: Float64Array[] = [];
  for (const spec of plan.values) {
    const c = column(spec.index);
    const out = new F64Builder(n);
    let text = false;
    for (let r = 0; r < n; r++) {
      const v = c.get(r);
      let x: number | undefined;
      if (v === null || v === undefined) x = NaN;
      else if (typeof v === 'number') x = v;
      else if (typeof v === 'bigint') x = Number(v);
      else if (typeof v === 'boolean') x = v ? 1 : 0;
      else if (v instanceof Date) x = v.getTime();
      else x = cellNumber(v.trim(), na);
      if (x === undefined) {
        if (!spec.explicit) {
          text = true;
          break;
        }
        throw notANumber(symbol, where(r), spec.name, String(v));
      }
      out.push(x);
    }
    if (text) continue;
    names.push(spec.name);
    cols.push(out.finish());
  }
  return { time, names, cols, rowRef: where };
}

export async function parseParquet(symbol: string, path: string, label: string, o: TableOptions): Promise<Frame> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetRead } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  let rows: Cell[][] = [];
  let header: string[];
  try {
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    header = metadata.schema.slice(1).filter((s) => !s.num_children).map((s) => s.name);
    await parquetRead({ file, metadata, compressors, rowFormat: 'array', onComplete: (r: Cell[][]) => (rows = r) });
  } catch (err) {
    throw sourceError(symbol, `cannot read ${label} as Parquet: ${(err as Error).message}`, 'Check that the file is a Parquet file (format: parquet) and not damaged', false, err);
  }
  const col = (i: number) => ({ get: (r: number) => rows[r]![i] });
  return frameFromColumns(symbol, label, header, rows.length, col, o, () => false);
}

export async function parseArrow(symbol: string, path: string, label: string, o: TableOptions): Promise<Frame> {
  const arrow = await import('apache-arrow');
  let table: import('apache-arrow').Table;
  try {
    table = arrow.tableFromIPC(await readFile(path));
  } catch (err) {
    throw sourceError(symbol, `cannot read ${label} as Arrow IPC: ${(err as Error).message}`, 'Check that the file is an Arrow IPC file or stream (format: arrow) and not damaged', false, err);
  }
  const fields = table.schema.fields;
  const header = fields.map((f) => f.name);
  const col = (i: number) => {
    const v = table.getChildAt(i)!;
    return { get: (r: number) => v.get(r) as Cell };
  };
  const nativeMs = (i: number) => arrow.DataType.isTimestamp(fields[i]!.type) || arrow.DataType.isDate(fields[i]!.type);
  return frameFromColumns(symbol, label, header, table.numRows, col, o, nativeMs);
}
