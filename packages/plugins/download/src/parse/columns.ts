/**
 * Turning a table's header into a time column and value columns, and cells into numbers: shared
 * by the CSV, Parquet and Arrow readers so that every source follows the same rules.
 */
import { configError, dataError } from '../errors.js';
import type { TableOptions } from '../schema.js';
import { normalizeName, uniqueNames } from '../series/frame.js';

const TIME_NAMES = ['time', 'timestamp', 'date', 'datetime', 'open_time', 'opentime', 'ts', 'observation_date'];

export interface ColumnPlan {
  timeIndex: number;
  /** Value columns: output name, input index, and whether the user named it (then it must be numeric). */
  values: { name: string; index: number; explicit: boolean }[];
}

/** Picks the time column and value columns from a header, per the table options. */
export function planColumns(symbol: string, where: string, header: string[], o: Pick<TableOptions, 'timeColumn' | 'columns'>): ColumnPlan {
  const lower = header.map((h) => h.trim().toLowerCase());
  const listed = header.map((h) => JSON.stringify(h)).join(', ');
  let timeIndex: number;
  if (o.timeColumn === 'auto') {
    timeIndex = lower.findIndex((h) => TIME_NAMES.includes(h.replace(/\s+/g, '_')));
    if (timeIndex < 0) timeIndex = 0;
  } else {
    timeIndex = lower.indexOf(o.timeColumn.toLowerCase());
    if (timeIndex < 0) {
      throw configError(`${symbol}: ${where} has no column "${o.timeColumn}" (timeColumn)`, `Its columns are ${listed}. Set timeColumn to one of them`);
    }
  }
  const mapping = Object.entries(o.columns);
  if (mapping.length > 0) {
    const values = mapping.map(([out, input]) => {
      const index = lower.indexOf(input.toLowerCase());
      if (index < 0) throw configError(`${symbol}: ${where} has no column "${input}" (columns.${out})`, `Its columns are ${listed}`);
      return { name: out, index, explicit: true };
    });
    return { timeIndex, values };
  }
  const idx = header.map((_, i) => i).filter((i) => i !== timeIndex);
  const names = uniqueNames(idx.map((i) => normalizeName(header[i]!)).map((n) => (n === 'time' ? 'time_2' : n)));
  return { timeIndex, values: idx.map((index, k) => ({ name: names[k]!, index, explicit: false })) };
}

/** Cell text → number; NaN for a missing value; undefined when it is not a number. */
export function cellNumber(text: string, na: ReadonlySet<string>): number | undefined {
  if (na.has(text)) return NaN;
  const v = Number(text);
  if (Number.isNaN(v)) return undefined;
  // Number('') and Number('  ') are 0; a blank that is not listed in naValues is no number.
  if (v === 0 && text.trim() === '') return undefined;
  return v;
}

export function notANumber(symbol: string, where: string, column: string, text: string): Error {
  const shown = text.length > 40 ? text.slice(0, 37) + '...' : text;
  return dataError(
    symbol,
    where,
    `column "${column}" is ${JSON.stringify(shown)}, which is not a number`,
    /\d,\d/.test(text)
      ? 'Numbers must use a dot as decimal separator and no thousands separators; for ";"-separated files with decimal commas, convert the file first'
      : 'Fix the value, add it to naValues if it marks a missing value, or leave the column out with `columns`',
  );
}

export function badTime(symbol: string, where: string, column: string, text: string, format: string): Error {
  return dataError(
    symbol,
    where,
    `time column "${column}" is ${JSON.stringify(text)}, which is not a date or timestamp (timeFormat: ${format})`,
    'Set timeColumn to the column that holds the time, or timeFormat to how it is written (iso, yyyymmdd, s, ms, us, ns)',
  );
}

export function requireNames(symbol: string, o: TableOptions): string[] {
  if (o.header) return [];
  if (o.names.length === 0) throw configError(`${symbol}: header is false but names is empty`, 'List the column names in `names`, in file order');
  return o.names;
}
