/**
 * Stored series: the Arrow file (written by `writeSeries`, atomically) and its manifest. The
 * Arrow file's bytes depend only on the source options and the data, so a resumed download, a
 * clean one and a rerun give identical files; the retrieval time therefore lives in the
 * manifest, which is written (atomically) after the Arrow file and names its sha256.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { writeFileAtomic } from '@runner/core';
import { writeSeries } from '@runner/core/series';
import { iso } from '../time.js';
import { frameBytes, type Frame } from './frame.js';

export const MANIFEST_FORMAT = 'runner-download/1';

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  symbol: string;
  source: string;
  /** Hash of the source options that determine the content. */
  key: string;
  params: Record<string, unknown>;
  /** The Arrow file's name, next to the manifest. */
  file: string;
  size: number;
  sha256: string;
  /** sha256 over the column values, independent of the file encoding. */
  contentSha256: string;
  rows: number;
  columns: string[];
  start: string;
  end: string;
  interval?: string;
  gaps: number;
  retrievedAt: string;
  url?: string;
  etag?: string;
  /** sha256 of the input file (file source), to notice when it changes. */
  inputSha256?: string;
}

export async function readManifest(path: string): Promise<Manifest | undefined> {
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    return m.format === MANIFEST_FORMAT ? m : undefined;
  } catch {
    return undefined;
  }
}

export async function fileSha256(path: string): Promise<string | undefined> {
  try {
    const h = createHash('sha256');
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
    return h.digest('hex');
  } catch {
    return undefined;
  }
}

/** Whether the stored file still is what its manifest says (size first, then the checksum). */
export async function verifyStored(file: string, m: Manifest): Promise<boolean> {
  try {
    const st = await stat(file);
    if (st.size !== m.size) return false;
  } catch {
    return false;
  }
  return (await fileSha256(file)) === m.sha256;
}

export function contentSha256(frame: Frame): string {
  const h = createHash('sha256');
  for (const p of frameBytes(frame)) h.update(p);
  return h.digest('hex');
}

export interface StoreInput {
  symbol: string;
  source: string;
  key: string;
  params: Record<string, unknown>;
  interval?: string;
  gaps: number;
  url?: string;
  etag?: string;
  inputSha256?: string;
}

/** Writes the Arrow file, then the manifest; returns the manifest. */
export async function storeSeries(file: string, manifestPath: string, frame: Frame, s: StoreInput): Promise<Manifest> {
  const rows = frame.time.length;
  const start = iso(frame.time[0]!);
  const end = iso(frame.time[rows - 1]!);
  const content = contentSha256(frame);
  const columns: Record<string, Float64Array> = { time: frame.time };
  frame.names.forEach((n, i) => (columns[n] = frame.cols[i]!));
  const meta: Record<string, string> = {
    format: 'runner-series/1',
    symbol: s.symbol,
    source: s.source,
    key: s.key,
    params: JSON.stringify(s.params),
    rows: String(rows),
    start,
    end,
    contentSha256: content,
  };
  if (s.interval) meta.interval = s.interval;
  const { size, sha256 } = await writeSeries(file, columns, meta);
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    symbol: s.symbol,
    source: s.source,
    key: s.key,
    params: s.params,
    file: basename(file),
    size,
    sha256,
    contentSha256: content,
    rows,
    columns: Object.keys(columns),
    start,
    end,
    gaps: s.gaps,
    retrievedAt: new Date().toISOString(),
  };
  if (s.interval) manifest.interval = s.interval;
  if (s.url) manifest.url = s.url;
  if (s.etag) manifest.etag = s.etag;
  if (s.inputSha256) manifest.inputSha256 = s.inputSha256;
  await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

export interface Change {
  /** Rows in the common time range whose values differ, or that only one side has. */
  rows: number;
  /** The first such time, ISO. */
  first: string;
  what: string;
}

/**
 * Compares a new download with the stored series over the time range both cover. New rows after
 * the stored end (or before its start) are growth, not change.
 */
export function compareSeries(old: { time: Float64Array; columns: Record<string, ArrayLike<number>> }, neu: Frame): Change | undefined {
  const oldNames = Object.keys(old.columns).filter((n) => n !== 'time');
  const common = neu.names.filter((n) => oldNames.includes(n));
  const missing = oldNames.filter((n) => !neu.names.includes(n));
  const pairs = common.map((n) => [old.columns[n]!, neu.cols[neu.names.indexOf(n)]!] as const);
  const a = old.time;
  const b = neu.time;
  if (a.length === 0 || b.length === 0) return undefined;
  const lo = Math.max(a[0]!, b[0]!);
  const hi = Math.min(a[a.length - 1]!, b[b.length - 1]!);
  let i = lowerBound(a, lo);
  let j = lowerBound(b, lo);
  let rows = 0;
  let first = NaN;
  const note = (t: number) => {
    rows++;
    if (Number.isNaN(first)) first = t;
  };
  while (i < a.length && j < b.length && (a[i]! <= hi || b[j]! <= hi)) {
    const ta = a[i]!;
    const tb = b[j]!;
    if (ta === tb) {
      for (const [oc, nc] of pairs) {
        const x = oc[i]!;
        const y = nc[j]!;
        if (!(x === y || (x !== x && y !== y))) {
          note(ta);
          break;
        }
      }
      i++;
      j++;
    } else if (ta < tb) {
      note(ta);
      i++;
    } else {
      note(tb);
      j++;
    }
  }
  if (missing.length > 0 && rows === 0) return { rows: 0, first: iso(lo), what: `columns ${missing.join(', ')} are gone` };
  if (rows === 0) return undefined;
  return { rows, first: iso(first), what: `${rows} row${rows === 1 ? '' : 's'} differ from ${iso(first)} on` };
}

function lowerBound(t: Float64Array, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
