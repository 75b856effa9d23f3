/** Local CSV, Parquet or Arrow files, one per symbol. */
import { access } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { configError, sourceError } from '../errors.js';
import { parseCsv } from '../parse/csv.js';
import { parseArrow, parseParquet } from '../parse/table.js';
import type { FileSource } from '../schema.js';
import { fileSha256 } from '../series/store.js';
import { parseInterval } from '../time.js';
import { dailyWeekdays, type Fetched, type SourceDriver } from './types.js';

export function formatOf(path: string, format: FileSource['format']): 'csv' | 'parquet' | 'arrow' {
  if (format !== 'auto') return format;
  const ext = extname(path.replace(/\.gz$/, '')).toLowerCase();
  if (['.parquet', '.pq'].includes(ext)) return 'parquet';
  if (['.arrow', '.feather', '.ipc', '.arrows'].includes(ext)) return 'arrow';
  if (['.csv', '.tsv', '.txt', ''].includes(ext)) return 'csv';
  throw configError(`source.path: cannot tell the format of "${path}" from its extension`, 'Set source.format to csv, parquet or arrow');
}

export function fileSource(o: FileSource): SourceDriver {
  if (o.interval) parseInterval(o.interval);
  const template = resolve(o.path);
  formatOf(template, o.format);
  const pathOf = (symbol: string) => template.replace(/\{symbol\}/g, symbol);
  const { type: _t, path: _p, ...params } = o;
  return {
    type: 'file',
    interval: o.interval,
    params: { ...params, path: template },
    openEnded: false,
    defaultCalendar: dailyWeekdays,
    async inputSha256(symbol) {
      return fileSha256(pathOf(symbol));
    },
    async fetch(run, symbol): Promise<Fetched> {
      const path = pathOf(symbol);
      try {
        await access(path);
      } catch {
        throw sourceError(symbol, `no file at ${path} (source.path: ${o.path}, relative to ${process.cwd()})`, 'Check the path and the {symbol} placeholder');
      }
      const inputSha256 = await fileSha256(path);
      const format = formatOf(path, o.format);
      const frame =
        format === 'csv' ? await parseCsv(symbol, { path, label: path }, o) : format === 'parquet' ? await parseParquet(symbol, path, path, o) : await parseArrow(symbol, path, path, o);
      run.rows = frame.time.length;
      return { frame, url: path, inputSha256 };
    },
  };
}
