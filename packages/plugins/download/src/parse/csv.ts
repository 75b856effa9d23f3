/**
 * CSV → frame, streaming, with Papa Parse (maintained, RFC 4180 quotes, CRLF, and a fast path
 * for unquoted data: 10× csv-parse's speed on a 40 MB file here, 250 ms against 2.7 s). Each
 * row is converted as it arrives; a bad cell stops the parse with its line number (lines count
 * records, so a quoted field spanning lines shifts later numbers).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { dataError, sourceError } from '../errors.js';
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
  const Papa = (await import('papaparse')).default;
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
      start(record.map((s, i) => (i === 0 ? s.replace(/^\uFEFF/, '') : s).trim()));
      return;
    }
    if (record.length !== header.length) {
      throw dataError(symbol, where(line), `${record.length} field${record.length === 1 ? '' : 's'} where the header has ${header.length}`, 'Fix the row, or check the delimiter');
    }
    const tText = trim(record[plan.timeIndex]!);
    const t = parseTimestamp(tText, o.timeFormat);
    if (Number.isNaN(t)) throw badTime(symbol, where(line), header[plan.timeIndex] ?? String(plan.timeIndex), tText, o.timeFormat);
    time!.push(t);
    lines.push(line);
    const vs = plan.values;
    for (let c = 0; c < vs.length; c++) {
      const b = cols[c];
      if (b === null) continue;
      const text = trim(record[vs[c]!.index]!);
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

  const stream = decoded(input);
  let line = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      Papa.parse<string[]>(stream, {
        delimiter,
        skipEmptyLines: false,
        step: (results, parser) => {
          line++;
          const record = results.data;
          if (record.length === 1 && record[0] === '') return; // an empty line
          const err = results.errors[0];
          try {
            if (err) throw dataError(symbol, where(line), `${err.message.replace(/\.$/, '')} (${err.code})`);
            onRecord(record, line);
          } catch (e) {
            failure = e as Error;
            parser.abort();
          }
        },
        complete: () => resolve(),
        error: (e: Error) => reject(e),
      });
    });
  } catch (err) {
    const e = err as { code?: string };
    if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR') {
      throw sourceError(symbol, `${input.label} is not valid ${input.encoding ?? 'gzip'} data`, 'The file is damaged or not compressed; download it again (refresh: true)');
    }
    throw err;
  } finally {
    stream.destroy();
  }
  if (failure) throw failure;
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

function trim(s: string): string {
  return s.length > 0 && (s.charCodeAt(0) <= 32 || s.charCodeAt(s.length - 1) <= 32) ? s.trim() : s;
}
