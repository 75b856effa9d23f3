/**
 * CSV → frame, streaming, with csv-parse (the maintained parser of the node-csv project: quotes,
 * BOMs, CRLF, multi-line fields, and errors that carry the line number). Rows are consumed in
 * `on_record`, so nothing is buffered per record; a bad cell stops the parse with its line.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { dataError, DownloadError, sourceError } from '../errors.js';
import type { TableOptions } from '../schema.js';
import { F64Builder, type Frame } from '../series/frame.js';
import { parseTimestamp } from '../time.js';
import { badTime, cellNumber, notANumber, planColumns, requireNames, type ColumnPlan } from './columns.js';

export interface CsvInput {
  path: string;
  /** Content-Encoding of the bytes (gzip, deflate, br), or a .gz path. */
  encoding?: string;
  /** Names the input in messages: a URL without secrets, or a path. */
  label: string;
}

function decoded(input: CsvInput): Readable {
  const raw = createReadStream(input.path);
  const enc = input.encoding ?? (input.path.endsWith('.gz') ? 'gzip' : undefined);
  if (enc === 'gzip' || enc === 'x-gzip') return raw.pipe(createGunzip());
  if (enc === 'deflate') return raw.pipe(createInflate());
  if (enc === 'br') return raw.pipe(createBrotliDecompress());
  return raw;
}

/** The first line of the (decoded) file, for delimiter detection and source sanity checks. */
export async function firstLine(input: CsvInput, max = 4096): Promise<string> {
  if (!input.encoding && !input.path.endsWith('.gz')) {
    const fh = await open(input.path, 'r');
    try {
      const buf = Buffer.alloc(max);
      const { bytesRead } = await fh.read(buf, 0, max, 0);
      return buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '';
    } finally {
      await fh.close();
    }
  }
  let text = '';
  for await (const chunk of decoded(input)) {
    text += (chunk as Buffer).toString('utf8');
    if (text.includes('\n') || text.length >= max) break;
  }
  return text.replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '';
}

export function detectDelimiter(line: string): string {
  let best = ',';
  let bestCount = 0;
  for (const d of [',', ';', '\t', '|']) {
    const n = line.split(d).length - 1;
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}

export async function parseCsv(symbol: string, input: CsvInput, o: TableOptions): Promise<Frame> {
  const { parse } = await import('csv-parse');
  const delimiter = o.delimiter === 'auto' ? detectDelimiter(await firstLine(input)) : o.delimiter === '\\t' ? '\t' : o.delimiter;
  const na = new Set(o.naValues);
  const fixedNames = requireNames(symbol, o);
  let plan: ColumnPlan | undefined;
  let header: string[] = [];
  let time: F64Builder | undefined;
  let cols: (F64Builder | null)[] = [];
  /** Value columns not yet known to be numeric: decided by their first non-missing cell. */
  let undecided: boolean[] = [];
  const lines = new F64Builder();
  let failure: Error | undefined;
  const where = (line: number) => `line ${line} of ${input.label}`;

  const start = (names: string[]) => {
    header = names;
    plan = planColumns(symbol, input.label, names, o);
    time = new F64Builder(4096);
    cols = plan.values.map(() => new F64Builder(4096));
    undecided = plan.values.map((v) => !v.explicit);
  };
  if (fixedNames.length > 0) start(fixedNames);

  const onRecord = (record: string[], line: number): void => {
    if (!plan) {
      start(record.map((s) => s.trim()));
      return;
    }
    const tText = record[plan.timeIndex] ?? '';
    const t = parseTimestamp(tText, o.timeFormat);
    if (Number.isNaN(t)) throw badTime(symbol, where(line), header[plan.timeIndex] ?? String(plan.timeIndex), tText, o.timeFormat);
    time!.push(t);
    lines.push(line);
    const vs = plan.values;
    for (let c = 0; c < vs.length; c++) {
      const b = cols[c];
      if (b === null) continue;
      const text = record[vs[c]!.index]!;
      const v = cellNumber(text, na);
      if (v === undefined) {
        if (undecided[c]) {
          // A text column (a ticker, a note) in auto mode: leave it out.
          cols[c] = null;
          undecided[c] = false;
          continue;
        }
        throw notANumber(symbol, where(line), vs[c]!.name, text);
      }
      if (undecided[c] && !Number.isNaN(v)) undecided[c] = false;
      b!.push(v);
    }
  };

  const parser = parse({
    delimiter,
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: false,
    on_record: (record: string[], context: { lines: number }) => {
      if (failure) return null;
      try {
        onRecord(record, context.lines);
      } catch (err) {
        failure = err as Error;
      }
      return null;
    },
  });
  const stream = decoded(input);
  try {
    stream.pipe(parser);
    for await (const _ of parser) {
      // records are consumed in on_record
    }
  } catch (err) {
    if (failure) throw failure;
    const e = err as { code?: string; lines?: number; message?: string };
    if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR') {
      throw sourceError(symbol, `${input.label} is not valid ${input.encoding ?? 'gzip'} data`, 'The file is damaged or not compressed; download it again (refresh: true)');
    }
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw dataError(symbol, where(e.lines ?? 0), (e.message ?? '').replace(/^Invalid Record Length: /, '').replace(/\s+/g, ' '));
    }
    throw err;
  } finally {
    stream.destroy();
  }
  if (failure) throw failure instanceof DownloadError ? failure : failure;
  if (!plan || !time) throw dataError(symbol, input.label, 'the file is empty', 'Check the URL or path and the date range');
  const lineOf = lines.finish();
  const kept = plan.values.map((v, c) => ({ v, b: cols[c] })).filter((x) => x.b !== null);
  const n = time.length;
  // A column decided as text after some rows were read keeps fewer values than rows; drop it too.
  const full = kept.filter((x) => x.b!.length === n);
  return {
    time: time.finish(),
    names: full.map((x) => x.v.name),
    cols: full.map((x) => x.b!.finish()),
    rowRef: (i) => where(lineOf[i]!),
  };
}
