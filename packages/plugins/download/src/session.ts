/**
 * What one task's downloads share: the HTTP agent, request slots (`concurrency`), the per-host
 * rate limiter, the retry policy, and the checkpoint, which is one state object for every series
 * of the task, saved coalesced: many callers asking for a save while one is committing get the
 * next one.
 */
import { join } from 'node:path';
import type { TaskContext } from '@runner/core';
import { httpError, networkError, statusHint } from './errors.js';
import { HttpClient, statusFailure, type Response } from './http/client.js';
import { HostRateLimiter } from './http/rate-limit.js';
import { AttemptError, withRetry } from './http/retry.js';
import { redactUrl, sha256Hex, symbolFileName } from './paths.js';
import type { DownloadOptions } from './schema.js';
import type { SeriesResult } from './result.js';

/** Resume state of a paginated series. Only what is fsynced to the partial file is recorded. */
export interface PagesState {
  kind: 'pages';
  /** Pages committed, in order: page `pages` is the next to fetch. */
  pages: number;
  /** Page count, once known. */
  total?: number;
  rows: number;
  /** Committed length of the partial file. */
  bytes: number;
  /**
   * Rows per committed page, run-length encoded as [rows, pages, rows, pages, ...] (most pages
   * are full), to name a bad row by its page while keeping the checkpoint small.
   */
  pageRows: number[];
  /** sha256 of the last committed page's rows, to detect a source that changed meanwhile. */
  lastSha?: string;
}

/** Resume state of a single-file download. */
export interface FileState {
  kind: 'file';
  /** sha256 of the URL, so a changed URL starts over. */
  urlKey: string;
  etag?: string;
  lastModified?: string;
  total?: number;
  /** Committed length of the partial file. */
  offset: number;
  complete: boolean;
}

export interface SeriesState {
  /** "Now" when this series' download began; open-ended ranges end here, also after a resume. */
  now: number;
  bytesFetched: number;
  requests: number;
  retries: number;
  restarts: number;
  changedDuringDownload: boolean;
  fetch?: PagesState | FileState;
  done?: SeriesResult;
}

/** Request headers, or a function giving them per attempt (e.g. a Range that moves on). */
export type Headers = Record<string, string> | (() => Record<string, string>);

export interface TaskState {
  v: 1;
  series: Record<string, SeriesState>;
}

/** Per-series progress and counters; the fetch engines update it. */
export class SeriesRun {
  /** Live counters; `state` holds what is committed. */
  readonly state: SeriesState;
  pages = 0;
  totalPages: number | undefined;
  rows = 0;
  bytesTotal: number | undefined;
  /** Bytes of the partial file on disk (file downloads). */
  bytesOnDisk = 0;
  private syncFn: (() => Promise<PagesState | FileState>) | undefined;

  constructor(
    readonly session: Session,
    readonly symbol: string,
    readonly key: string,
    saved: SeriesState | undefined,
  ) {
    this.state = saved ?? { now: Date.now(), bytesFetched: 0, requests: 0, retries: 0, restarts: 0, changedDuringDownload: false };
  }

  get resumeState(): PagesState | FileState | undefined {
    return this.state.fetch;
  }

  /** Path of this series' partial data (never the final path). */
  partialPath(ext: string): string {
    return join(this.session.ctx.artifactDir, 'partial', `${symbolFileName(this.symbol)}-${this.key}.${ext}`);
  }

  /** The engine registers how to fsync and describe its committed state. */
  track(sync: () => Promise<PagesState | FileState>): void {
    this.syncFn = sync;
  }

  async sync(): Promise<void> {
    if (this.syncFn) this.state.fetch = await this.syncFn();
  }

  untrack(): void {
    this.syncFn = undefined;
    delete this.state.fetch;
  }

  private pending: Promise<void> | undefined;
  private commitError: { error: unknown } | undefined;

  /** Saves a checkpoint (coalesced with concurrent requests). */
  commit(): Promise<void> {
    return this.session.save();
  }

  /**
   * Starts a checkpoint without waiting for it, so fetching goes on while it commits; saves
   * asked for meanwhile coalesce into the next one. A failed save surfaces on the next call or
   * at {@link flush}.
   */
  commitSoon(): void {
    if (this.commitError) throw this.commitError.error;
    const p = this.session.save();
    this.pending = p;
    p.catch((error) => {
      this.commitError ??= { error };
    });
  }

  /** Waits for the checkpoints started by {@link commitSoon}. */
  async flush(): Promise<void> {
    if (this.pending) await this.pending.catch(() => {});
    if (this.commitError) throw this.commitError.error;
  }

  report(): void {
    this.session.report();
  }

  /** GET `url` with retries; `handle` reads the body. A 2xx outside `accept` is handled too. */
  fetch<T>(url: string, headers: Headers, handle: (res: Response, attempt: number) => Promise<T>, opts: { accept?: number[]; signal?: AbortSignal } = {}): Promise<T> {
    return this.session.fetch(this, url, headers, handle, opts);
  }
}

export class Session {
  readonly http: HttpClient;
  readonly limiter: HostRateLimiter;
  readonly state: TaskState;
  readonly runs = new Map<string, SeriesRun>();
  private slotsFree: number;
  private waiting: (() => void)[] = [];
  private queued: Promise<void> | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Fires on cancellation, or when one series fails fatally and the others must stop. */
  readonly signal: AbortSignal;
  private readonly stopper = new AbortController();
  /** Step/total for checkpoints and progress; set by the orchestration. */
  progressOf: () => { step: number; total?: number; message?: string } = () => ({ step: 0 });

  constructor(
    readonly ctx: TaskContext<DownloadOptions>,
    saved: TaskState | undefined,
  ) {
    const o = ctx.options;
    this.state = saved ?? { v: 1, series: {} };
    this.http = new HttpClient(o.concurrency, o.timeouts);
    this.limiter = new HostRateLimiter(o.rateLimit.perSecond, o.rateLimit.burst, safeDb(ctx));
    this.slotsFree = o.concurrency;
    this.signal = AbortSignal.any([ctx.signal, this.stopper.signal]);
  }

  /** Stops every download of the task (after a fatal error in one of them). */
  stop(reason: unknown): void {
    this.stopper.abort(reason);
  }

  series(symbol: string, key: string): SeriesRun {
    let run = this.runs.get(symbol);
    if (!run) {
      const saved = this.state.series[symbol];
      run = new SeriesRun(this, symbol, key, saved && !saved.done ? saved : undefined);
      this.state.series[symbol] = run.state;
      this.runs.set(symbol, run);
    }
    return run;
  }

  /** Saves the whole task state; concurrent calls share the next save. */
  save(type: 'periodic' | 'cancellation' | 'failure' = 'periodic'): Promise<void> {
    if (type === 'periodic' && this.queued) return this.queued;
    const p = this.chain.then(async () => {
      if (this.queued === p) this.queued = undefined;
      for (const run of this.runs.values()) await run.sync();
      const { step, total } = this.progressOf();
      await this.ctx.checkpoint.save(this.state, { step, total, type, metrics: this.metrics() });
    });
    if (type === 'periodic') this.queued = p;
    this.chain = p.catch(() => {});
    return p;
  }

  private background: Promise<void> | undefined;
  private backgroundError: { error: unknown } | undefined;

  /** Starts a save without waiting for it; a failure surfaces at {@link flushSaves}. */
  saveSoon(): void {
    const p = this.save();
    this.background = p;
    p.catch((error) => {
      this.backgroundError ??= { error };
    });
  }

  async flushSaves(): Promise<void> {
    if (this.background) await this.background.catch(() => {});
    if (this.backgroundError) throw this.backgroundError.error;
  }

  /** Pages, rows and bytes of the series already finished by this attempt. */
  readonly finished = { pages: 0, rows: 0, bytes: 0 };

  /** Forgets a finished series' live state, keeping its figures for progress. */
  retire(symbol: string): void {
    const run = this.runs.get(symbol);
    if (!run) return;
    run.untrack();
    this.finished.pages += run.pages;
    this.finished.rows += run.rows;
    this.finished.bytes += run.state.bytesFetched;
    this.runs.delete(symbol);
  }

  metrics(): Record<string, number> {
    let { pages, rows, bytes } = this.finished;
    for (const r of this.runs.values()) {
      pages += r.pages;
      rows += r.rows;
      bytes += r.state.bytesFetched;
    }
    return { pages, rows, bytes };
  }

  /** Progress with pages, bytes and rows; the runner throttles what it shows. */
  report(): void {
    const p = this.progressOf();
    this.ctx.progress({ step: p.step, total: p.total, message: p.message, metrics: this.metrics() });
  }

  private async acquire(signal: AbortSignal): Promise<void> {
    if (this.slotsFree > 0) {
      this.slotsFree--;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiting = this.waiting.filter((w) => w !== go);
        reject(signal.reason);
      };
      const go = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiting.push(go);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.slotsFree++;
  }

  async fetch<T>(
    run: SeriesRun,
    url: string,
    headers: Headers,
    handle: (res: Response, attempt: number) => Promise<T>,
    opts: { accept?: number[]; signal?: AbortSignal },
  ): Promise<T> {
    const signal = opts.signal ?? this.signal;
    const accept = opts.accept ?? [200];
    const shown = redactUrl(url);
    const host = new URL(url).host;
    try {
      return await withRetry(
        this.ctx.options.retries,
        signal,
        async (attempt) => {
          await this.acquire(signal);
          try {
            await this.limiter.take(host, signal);
            run.state.requests++;
            const res = await this.http.get(url, typeof headers === 'function' ? headers() : headers, signal);
            if (!accept.includes(res.statusCode)) {
              if (res.statusCode >= 200 && res.statusCode < 300) {
                res.body.destroy();
                throw new AttemptError('status', `unexpected HTTP ${res.statusCode}`, true, { status: res.statusCode, statusText: res.statusText });
              }
              throw await statusFailure(res);
            }
            try {
              return await handle(res, attempt);
            } catch (err) {
              res.body.destroy();
              throw this.http.bodyFailure(err, signal);
            }
          } finally {
            this.release();
          }
        },
        ({ attempt, delayMs, error }) => {
          run.state.retries++;
          const what = error.kind === 'status' ? `HTTP ${error.extra.status}${error.extra.serverMessage ? ` (${error.extra.serverMessage})` : ''}` : error.message;
          const wait = error.extra.retryAfterMs !== undefined ? `${delayMs} ms (Retry-After)` : `${delayMs} ms`;
          this.ctx.log.warn(`${run.symbol}: GET ${shown}: ${what}; retry ${attempt} of ${this.ctx.options.retries.max} in ${wait}`);
          this.ctx.emit('download:retry', { symbol: run.symbol, url: shown, attempt, delayMs, status: error.extra.status, reason: error.message });
        },
      );
    } catch (err) {
      throw this.toDownloadError(err, run, shown);
    }
  }

  private toDownloadError(err: unknown, run: SeriesRun, shown: string): unknown {
    if (!(err instanceof AttemptError)) return err;
    const attempts = (err as AttemptError & { attempts?: number }).attempts ?? 1;
    const resume = run.resumeState && (run.resumeState.kind === 'pages' ? run.resumeState.pages > 0 : run.resumeState.offset > 0);
    const note = resume ? '; what was downloaded is kept, and running the task again resumes from there' : '';
    if (err.kind === 'status' && err.extra.status !== undefined) {
      const hint = err.extra.hint ?? statusHint(err.extra.status, note);
      const extra = err.message.replace(/^HTTP \d+(; )?/, '');
      return httpError(run.symbol, shown, err.extra.status, err.extra.statusText ?? '', attempts, err.extra.serverMessage, hint, err.transient, extra);
    }
    const hint =
      err.extra.hint ??
      (err.kind === 'body'
        ? `The server sent a broken response every time; check the source, or raise retries.max${note}`
        : `Check the network and the server, raise timeouts or retries.max, or run again later${note}`);
    const out = networkError(run.symbol, shown, attempts, err.message, hint, err.cause);
    if (!err.transient) Object.assign(out, { retryable: false });
    return out;
  }

  /** Content hash of a page's rows, to compare a refetched page with the committed one. */
  static pageSha(rows: Float64Array): string {
    return sha256Hex(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
  }

  async close(): Promise<void> {
    await this.http.agent.destroy().catch(() => {});
  }
}

function safeDb(ctx: TaskContext<DownloadOptions>) {
  try {
    return ctx.db('download');
  } catch {
    return undefined;
  }
}

