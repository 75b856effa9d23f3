/**
 * The bars to backtest: read with `readSeries` from the upstream download's result (or a file),
 * checked before anything runs: required columns present, no NaN in them, time strictly
 * increasing. Each problem names the cell, the file, the column and the first bad row.
 */
import { resolve } from 'node:path';
import type { TaskContext } from '@runner/core';
import { readSeries, type NumericArray } from '@runner/core/series';
import { configError, dataError } from '../errors.js';
import type { BacktestOptions } from '../schema.js';

export const REQUIRED_COLUMNS = ['time', 'open', 'high', 'low', 'close'] as const;

export interface LoadedSeries {
  file: string;
  rows: number;
  symbol: string;
  time: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume?: Float64Array;
  /** Every column, for model features. */
  columns: Record<string, NumericArray>;
}

/** The series file this task reads. */
export function seriesFile(ctx: TaskContext<BacktestOptions>, where: string): string {
  const d = ctx.options.data;
  if (d.file) return resolve(d.file);
  const up = ctx.upstream[d.from];
  const stages = Object.keys(ctx.upstream);
  if (!up) {
    throw configError(where, `data.from is "${d.from}" but this task has no completed upstream stage "${d.from}" (upstream: ${stages.join(', ') || 'none'})`, stages.length > 0 ? `Set data.from to one of ${stages.join(', ')}, or add "${d.from}" to the stage's needs` : `Add "${d.from}" to the stage's needs, or set data.file`);
  }
  if (Array.isArray(up)) throw configError(where, `data.from "${d.from}" has ${up.length} tasks for this cell`, `Give "${d.from}" the same or fewer per keys than the backtest stage, so that each cell has one series`);
  const f = (up.result as { file?: unknown } | null)?.file;
  if (typeof f !== 'string') throw configError(where, `the result of ${up.id} has no "file"`, 'data.from must name a stage whose result has file: the path of an Arrow series (the download plugin\'s does)');
  return f;
}

const asF64 = (a: NumericArray): Float64Array => (a instanceof Float64Array ? a : Float64Array.from(a));

export async function loadSeries(file: string, where: string): Promise<LoadedSeries> {
  let s;
  try {
    s = await readSeries(file);
  } catch (err) {
    throw dataError(where, file, '(file)', `cannot read the series: ${(err as Error).message}`, 'It must be an Arrow IPC file as @runner/core/series writes (the download plugin\'s output)');
  }
  const have = Object.keys(s.columns);
  for (const c of REQUIRED_COLUMNS) {
    if (!s.columns[c]) throw dataError(where, file, c, `missing (columns: ${have.join(', ') || 'none'})`, `The backtester needs ${REQUIRED_COLUMNS.join(', ')}; download OHLC bars, or map the columns in the download's source.columns`);
  }
  const out: LoadedSeries = {
    file,
    rows: s.rows,
    symbol: s.meta.symbol ?? '',
    time: asF64(s.columns.time!),
    open: asF64(s.columns.open!),
    high: asF64(s.columns.high!),
    low: asF64(s.columns.low!),
    close: asF64(s.columns.close!),
    columns: s.columns,
  };
  if (s.columns.volume) out.volume = asF64(s.columns.volume);
  checkSeries(out, where);
  return out;
}

/** Finite OHLC and strictly increasing time; throws BACKTEST_DATA naming the first bad row. */
export function checkSeries(s: LoadedSeries, where: string): void {
  if (s.rows === 0) throw dataError(where, s.file, 'time', 'the series has no rows', 'Download a non-empty range');
  const t = s.time;
  for (let i = 0; i < s.rows; i++) {
    if (!Number.isFinite(t[i]!)) throw dataError(where, s.file, 'time', `row ${i} is ${t[i]}`, 'Every bar needs a finite time (epoch ms)');
    if (i > 0 && !(t[i]! > t[i - 1]!)) {
      throw dataError(where, s.file, 'time', `not increasing at row ${i}: ${iso(t[i]!)} after ${iso(t[i - 1]!)}`, 'Remove duplicate bars and sort by time (the download plugin does both)');
    }
  }
  for (const c of ['open', 'high', 'low', 'close'] as const) {
    const a = s[c];
    for (let i = 0; i < s.rows; i++) {
      if (!Number.isFinite(a[i]!)) throw dataError(where, s.file, c, `row ${i} (${iso(t[i]!)}) is ${a[i]}`, 'Fill or drop the missing bars at the source (download checks / naValues), then run again');
    }
  }
}

export function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}
