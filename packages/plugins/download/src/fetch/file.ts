/**
 * Single-file downloads that resume. Bytes stream into a partial file; every 0.5% (at least
 * 16 KiB) or second, the file is fsynced and the checkpoint records the offset with the
 * server's strong ETag. Checkpoints commit in the background, but never more than 2% behind. A retry or a resumed task asks for `Range: bytes=<offset>-` with
 * `If-Range: <etag>`: a 206 continues the file, a 200 means the server's copy changed (or it
 * ignores ranges) and the download starts over, reported. Without a strong ETag there is no
 * safe way to splice two responses, so the download starts over.
 */
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { reopenPartial } from './partial.js';
import { AttemptError } from '../http/retry.js';
import { sha256Hex } from '../paths.js';
import type { FileState, SeriesRun } from '../session.js';

export interface FileDownload {
  path: string;
  etag?: string;
  /** Content-Encoding the bytes are in (gzip, deflate, br), if any. */
  encoding?: string;
  size: number;
}

const MIN_COMMIT_BYTES = 16 * 1024;
/** Files smaller than this are not worth a checkpoint: fetching them again is cheaper. */
const RESUMABLE_BYTES = 1024 * 1024;
const COMMIT_EVERY_MS = 1000;

export function parseContentRange(v: string | string[] | undefined): { start: number; end: number; total?: number } | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  const m = s ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(s.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/** A strong ETag, or undefined for a weak or missing one. */
export function strongEtag(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s || s.startsWith('W/')) return undefined;
  return s;
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export async function fetchFile(run: SeriesRun, url: string, headers: Record<string, string>): Promise<FileDownload> {
  const { ctx } = run.session;
  const path = run.partialPath('download');
  await mkdir(dirname(path), { recursive: true });
  const urlKey = sha256Hex(url);
  const fresh = (): FileState & { encoding?: string } => ({ kind: 'file', urlKey, offset: 0, complete: false });
  const saved = run.resumeState?.kind === 'file' && run.resumeState.urlKey === urlKey ? run.resumeState : undefined;
  let st: FileState & { encoding?: string } = saved ? { ...saved } : fresh();

  if (st.complete) {
    const size = await stat(path).then((s) => s.size, () => -1);
    if (size === st.offset) return { path, etag: st.etag, encoding: st.encoding, size };
    st = fresh();
  }
  let fh = st.offset > 0 ? await reopenPartial(path, st.offset) : undefined;
  if (fh) ctx.log.info(`${run.symbol}: resuming the download at byte ${st.offset}${st.total ? ` of ${st.total}` : ''}`);
  else if (st.offset > 0) st = fresh();
  fh ??= await open(path, 'w+');
  const file = fh;
  let closed = false;
  /** The offset the newest checkpoint (committed or committing) holds. */
  let snapOffset = st.offset;
  run.track(async () => {
    const snap = { ...st };
    snapOffset = snap.offset;
    if (!closed) await file.datasync();
    return snap;
  });
  run.bytesOnDisk = st.offset;
  run.bytesTotal = st.total;
  let committedAt = st.offset;
  let committedTime = Date.now();
  let durable = st.offset;

  const restart = async (why: string, changed: boolean) => {
    ctx.log.warn(`${run.symbol}: ${why}; downloading it again from the start`);
    if (changed) {
      run.state.restarts++;
      run.state.changedDuringDownload = true;
      ctx.emit('download:restart', { symbol: run.symbol, reason: why });
    }
    await file.truncate(0);
    st = { ...fresh() };
    committedAt = 0;
    durable = 0;
    run.bytesOnDisk = 0;
  };

  try {
    await run.fetch(
      url,
      () => (st.offset > 0 && st.etag ? { ...headers, range: `bytes=${st.offset}-`, 'if-range': st.etag } : headers),
      async (res) => {
        const etag = header(res.headers.etag);
        if (res.statusCode === 416) {
          res.body.destroy();
          if (st.total !== undefined && st.offset === st.total) return;
          await restart(`the server refused to resume at byte ${st.offset} (HTTP 416): its copy is shorter now`, true);
          throw new AttemptError('status', 'HTTP 416 (range not satisfiable)', true, { status: 416 });
        }
        if (res.statusCode === 206) {
          const cr = parseContentRange(res.headers['content-range']);
          if (!cr || cr.start !== st.offset || (st.etag !== undefined && etag !== undefined && etag !== st.etag)) {
            res.body.destroy();
            await restart(`the server answered the range request with ${cr ? `bytes ${cr.start}-${cr.end}` : 'no Content-Range'} for offset ${st.offset}`, false);
            throw new AttemptError('body', 'the server sent a range we did not ask for', true);
          }
          if (cr.total !== undefined) st.total = cr.total;
        } else {
          if (st.offset > 0) {
            const sentRange = st.etag !== undefined;
            const now = strongEtag(etag);
            if (!sentRange) await restart('the server gave no strong ETag to resume with', false);
            else if (now !== st.etag) await restart(`the server's copy changed since the download began (ETag ${st.etag} → ${etag ?? 'none'})`, true);
            else await restart('the server ignored the Range request', false);
          }
          st.etag = strongEtag(etag);
          st.lastModified = header(res.headers['last-modified']);
          st.encoding = header(res.headers['content-encoding']);
          if (st.encoding === 'identity') st.encoding = undefined;
          const len = Number(header(res.headers['content-length']));
          st.total = Number.isFinite(len) && len >= 0 ? len : undefined;
        }
        run.bytesTotal = st.total;
        for await (const buf of run.session.http.chunks(res)) {
          let off = 0;
          while (off < buf.length) {
            const { bytesWritten } = await file.write(buf, off, buf.length - off, st.offset + off);
            off += bytesWritten;
          }
          st.offset += buf.length;
          run.state.bytesFetched += buf.length;
          run.bytesOnDisk = st.offset;
          run.report();
          if (st.total !== undefined && st.total < RESUMABLE_BYTES) continue;
          const every = Math.max(MIN_COMMIT_BYTES, Math.floor((st.total ?? 0) / 200));
          const now = Date.now();
          if (st.offset - committedAt >= every || (now - committedTime >= COMMIT_EVERY_MS && st.offset > committedAt)) {
            committedAt = st.offset;
            committedTime = now;
            run.commitSoon();
          }
          // Checkpoints commit in the background; when the disk or the store falls behind the
          // network, wait, so that a kill loses little more than 2% of the file.
          if (st.offset - durable > 4 * every) {
            await run.flush();
            durable = snapOffset;
          }
        }
        if (st.total !== undefined && st.offset !== st.total) {
          throw new AttemptError('body', `the response ended at byte ${st.offset} of ${st.total}`, true);
        }
      },
      { accept: [200, 206, 416] },
    );
    await run.flush();
    st.complete = true;
    st.total = st.offset;
    run.bytesTotal = st.offset;
    run.report();
    if (st.offset >= RESUMABLE_BYTES) await run.commit();
  } catch (err) {
    await run.flush().catch(() => {});
    throw err;
  } finally {
    await file.datasync().catch(() => {});
    closed = true;
    await file.close().catch(() => {});
  }
  return { path, etag: st.etag, encoding: st.encoding, size: st.offset };
}
