/**
 * Paginated downloads. Pages are fetched `concurrency` at a time but committed strictly in order:
 * a committed page's rows are appended to the series' partial file (row-major float64), and the
 * checkpoint records how many pages and bytes are committed, after an fsync. A resumed download
 * truncates the partial file to the committed length, refetches the last committed page and
 * compares it with what it stored: equal, it goes on from the next page; different, the source
 * changed meanwhile and the series starts over rather than mixing two versions.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { reopenPartial } from './partial.js';
import type { Frame } from '../series/frame.js';
import { Session, type PagesState, type SeriesRun } from '../session.js';

export interface Page {
  /** Row-major values: [time, col1, ..., colN] per row. */
  rows: Float64Array;
  n: number;
  /** The page count, when this page tells it (e.g. FRED's `count`). */
  total?: number;
}

export interface PagedSpec {
  /** Value columns (time is implied first). */
  columns: string[];
  /** The page count when it is known before fetching. */
  total?: number;
  fetchPage(k: number, signal: AbortSignal): Promise<Page>;
  /** Names page k in messages, e.g. "page 3 (from 2024-01-05T00:00:00.000Z)". */
  describe(k: number): string;
}

export async function fetchPages(run: SeriesRun, spec: PagedSpec): Promise<Frame> {
  const { ctx } = run.session;
  const width = 1 + spec.columns.length;
  const path = run.partialPath('rows');
  await mkdir(dirname(path), { recursive: true });

  const fresh = (): PagesState => ({ kind: 'pages', pages: 0, rows: 0, bytes: 0, pageRows: [] });
  const saved = run.resumeState?.kind === 'pages' ? run.resumeState : undefined;
  let st: PagesState = saved ? { ...saved, pageRows: [...saved.pageRows] } : fresh();
  let fh = st.pages > 0 ? await reopenPartial(path, st.bytes) : undefined;
  if (!fh && st.pages > 0) {
    ctx.log.warn(`${run.symbol}: the partial file ${path} is missing or shorter than its checkpoint says; starting over`);
    st = fresh();
  }
  fh ??= await open(path, 'w+');
  const file = fh;
  let closed = false;
  run.track(async () => {
    const snap: PagesState = { ...st, pageRows: [...st.pageRows] };
    if (!closed) await file.datasync();
    return snap;
  });

  const controller = new AbortController();
  const outer = run.session.signal;
  const onAbort = () => controller.abort(outer.reason);
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;

  const append = async (k: number, page: Page) => {
    if (page.rows.length !== page.n * width) throw new Error(`${spec.describe(k)}: ${page.rows.length} values for ${page.n} rows of ${width}`);
    const bytes = new Uint8Array(page.rows.buffer, page.rows.byteOffset, page.rows.byteLength);
    let off = 0;
    while (off < bytes.byteLength) {
      const { bytesWritten } = await file.write(bytes, off, bytes.byteLength - off, st.bytes + off);
      off += bytesWritten;
    }
    st.bytes += bytes.byteLength;
    st.pages = k + 1;
    st.rows += page.n;
    pushRun(st.pageRows, page.n);
    st.lastSha = Session.pageSha(page.rows);
    if (page.total !== undefined) st.total = page.total;
    run.pages = st.pages;
    run.rows = st.rows;
    run.totalPages = st.total;
    run.report();
    run.commitSoon();
  };

  try {
    st.total ??= spec.total;
    run.pages = st.pages;
    run.rows = st.rows;
    run.totalPages = st.total;
    if (st.pages > 0 && st.lastSha) {
      const again = await spec.fetchPage(st.pages - 1, signal);
      if (Session.pageSha(again.rows) !== st.lastSha) {
        ctx.log.warn(`${run.symbol}: ${spec.describe(st.pages - 1)} differs from the copy committed before the interruption: the source changed; downloading the series again from the start`);
        ctx.emit('download:restart', { symbol: run.symbol, reason: 'a committed page changed', page: st.pages - 1 });
        run.state.restarts++;
        run.state.changedDuringDownload = true;
        st = fresh();
        st.total = spec.total;
        await file.truncate(0);
      } else {
        ctx.log.info(`${run.symbol}: resuming at page ${st.pages + 1}${st.total !== undefined ? ` of ${st.total}` : ''} (${st.rows} rows kept)`);
      }
    }
    if (st.total === undefined) {
      const first = await spec.fetchPage(0, signal);
      if (first.total === undefined) throw new Error(`${spec.describe(0)} did not say how many pages there are`);
      await append(0, first);
    }
    const window = Math.max(2, ctx.options.concurrency * 2);
    const inflight = new Map<number, Promise<Page>>();
    let next = st.pages;
    while (st.pages < st.total!) {
      while (next < st.total! && next < st.pages + window) {
        const p = spec.fetchPage(next, signal);
        p.catch(() => {});
        inflight.set(next, p);
        next++;
      }
      const k = st.pages;
      const page = await inflight.get(k)!;
      inflight.delete(k);
      await append(k, page);
    }
    await run.flush();
  } catch (err) {
    controller.abort(err);
    await run.flush().catch(() => {});
    await file.datasync().catch(() => {});
    closed = true;
    await file.close().catch(() => {});
    throw err;
  } finally {
    outer.removeEventListener('abort', onAbort);
  }

  await file.datasync();
  const all = new Float64Array(st.bytes / 8);
  const view = new Uint8Array(all.buffer);
  let off = 0;
  while (off < st.bytes) {
    const { bytesRead } = await file.read(view, off, st.bytes - off, off);
    if (bytesRead === 0) throw new Error(`the partial file ${path} ended at byte ${off} of ${st.bytes}`);
    off += bytesRead;
  }
  closed = true;
  await file.close();
  const n = st.rows;
  const time = new Float64Array(n);
  const cols = spec.columns.map(() => new Float64Array(n));
  for (let i = 0, p = 0; i < n; i++) {
    time[i] = all[p++]!;
    for (let c = 0; c < cols.length; c++) cols[c]![i] = all[p++]!;
  }
  const starts: number[] = [];
  let acc = 0;
  for (let i = 0; i < st.pageRows.length; i += 2) {
    for (let k = 0; k < st.pageRows[i + 1]!; k++) {
      starts.push(acc);
      acc += st.pageRows[i]!;
    }
  }
  const rowRef = (i: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return `${spec.describe(lo)} row ${i - starts[lo]! + 1}`;
  };
  return { time, names: spec.columns, cols, rowRef };
}

/** Appends one page's row count to a run-length list [rows, pages, ...]. */
export function pushRun(runs: number[], rows: number): void {
  const n = runs.length;
  if (n >= 2 && runs[n - 2] === rows) runs[n - 1] = runs[n - 1]! + 1;
  else runs.push(rows, 1);
}
