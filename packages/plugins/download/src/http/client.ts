/**
 * HTTP for the download plugin: undici 7 (Node 20's own fetch engine, as a library) for its
 * connection pool and streaming bodies. Every failure becomes an {@link AttemptError} that says
 * whether retrying could help. The header and body-idle timeouts are timed here with native
 * timers: undici's own run on a coarse clock (about one second of slack), which is kept only as
 * a backstop.
 */
import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { AttemptError, parseRetryAfter } from './retry.js';

export interface Timeouts {
  connectMs: number;
  headersMs: number;
  idleMs: number;
}

export type Response = Dispatcher.ResponseData;

/** Statuses worth retrying: the server is busy, restarting or failed transiently. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status === 418 || status >= 500;
}

export class HttpClient {
  readonly agent: Agent;

  constructor(
    concurrency: number,
    private readonly timeouts: Timeouts,
  ) {
    this.agent = new Agent({
      connections: Math.max(1, concurrency),
      headersTimeout: backstop(timeouts.headersMs),
      bodyTimeout: backstop(timeouts.idleMs),
      connect: { timeout: timeouts.connectMs },
      keepAliveTimeout: 10_000,
    });
  }

  /** Sends a GET; network errors and timeouts become transient AttemptErrors. */
  async get(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    const timer = new AbortController();
    const t = setTimeout(() => timer.abort(new AttemptError('network', `no response headers within ${this.timeouts.headersMs} ms (timeouts.headersMs)`, true)), this.timeouts.headersMs);
    try {
      return await request(url, {
        method: 'GET',
        headers,
        signal: AbortSignal.any([signal, timer.signal]),
        dispatcher: this.agent,
        headersTimeout: backstop(this.timeouts.headersMs),
        bodyTimeout: backstop(this.timeouts.idleMs),
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (timer.signal.aborted) throw timer.signal.reason;
      throw this.networkFailure(err);
    } finally {
      clearTimeout(t);
    }
  }

  /** The body's chunks, failing when none arrives for timeouts.idleMs. */
  async *chunks(res: Response): AsyncGenerator<Buffer> {
    const it = res.body[Symbol.asyncIterator]();
    const ms = this.timeouts.idleMs;
    for (;;) {
      let t: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        t = setTimeout(() => reject(new AttemptError('network', `the response body stalled for ${ms} ms (timeouts.idleMs)`, true)), ms);
      });
      try {
        const next = it.next();
        next.catch(() => {}); // after a stall the body is destroyed and this rejects unobserved
        const r = (await Promise.race([next, stalled])) as IteratorResult<Buffer>;
        if (r.done) return;
        yield r.value;
      } finally {
        clearTimeout(t);
      }
    }
  }

  /** Turns an error thrown while reading a body into an AttemptError (unless we aborted). */
  bodyFailure(err: unknown, signal: AbortSignal): unknown {
    if (signal.aborted) return signal.reason;
    if (err instanceof AttemptError) return err;
    if (isNetworkError(err)) return this.networkFailure(err);
    return err;
  }

  networkFailure(err: unknown): AttemptError {
    const e = err as { code?: string; message?: string };
    const code = e?.code ?? '';
    const t = this.timeouts;
    let reason: string;
    let transient = true;
    let hint: string | undefined;
    if (err instanceof undiciErrors.HeadersTimeoutError || code === 'UND_ERR_HEADERS_TIMEOUT') {
      reason = `no response headers within ${t.headersMs} ms (timeouts.headersMs)`;
    } else if (err instanceof undiciErrors.BodyTimeoutError || code === 'UND_ERR_BODY_TIMEOUT') {
      reason = `the response body stalled for ${t.idleMs} ms (timeouts.idleMs)`;
    } else if (err instanceof undiciErrors.ConnectTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') {
      reason = `could not connect within ${t.connectMs} ms (timeouts.connectMs)`;
    } else if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') {
      reason = `the connection dropped mid-response (${e.message ?? code})`;
    } else if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
      reason = 'the response ended before its Content-Length';
    } else if (code === 'ECONNREFUSED') {
      reason = 'connection refused (is the server up?)';
    } else if (code === 'ENOTFOUND') {
      reason = 'the host name does not resolve';
      transient = false;
      hint = 'Check the host in the URL or baseUrl';
    } else {
      reason = `${code ? code + ': ' : ''}${e?.message ?? String(err)}`;
    }
    return new AttemptError('network', reason, transient, hint ? { hint } : {}, { cause: err });
  }
}

function backstop(ms: number): number {
  return ms + 5000;
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

export function isNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('UND_ERR_') || NETWORK_CODES.has(code));
}

/**
 * Reads an error response (at most 4 KiB) for the message, and classifies its status. The body's
 * gist is kept: `{"msg": "Invalid symbol."}` from Binance or FRED's `error_message` say what to fix.
 */
export async function statusFailure(res: Response, retryAfterStatuses = [429, 503]): Promise<AttemptError> {
  let text = '';
  try {
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length > 4096) break;
    }
  } catch {
    // the message is a nicety; the status is what matters
  }
  res.body.destroy();
  const status = res.statusCode;
  const retryAfterMs = retryAfterStatuses.includes(status) ? parseRetryAfter(res.headers['retry-after']) : undefined;
  return new AttemptError('status', `HTTP ${status}`, isTransientStatus(status), {
    status,
    statusText: res.statusText ?? '',
    retryAfterMs,
    serverMessage: gist(text),
  });
}

function gist(text: string): string | undefined {
  const t = text.trim();
  if (!t) return undefined;
  try {
    const j = JSON.parse(t) as Record<string, unknown>;
    for (const k of ['msg', 'message', 'error_message', 'error', 'detail']) {
      const v = j[k];
      if (typeof v === 'string' && v) return v.slice(0, 300);
    }
  } catch {
    // not JSON
  }
  if (/^\s*</.test(t)) return undefined; // an HTML error page says nothing useful in one line
  return t.replace(/\s+/g, ' ').slice(0, 300);
}
