/**
 * Retrying one request: exponential backoff with full jitter (AWS's "Exponential Backoff and
 * Jitter": wait a random time in [0, min(max, base × 2^(n-1))]), and at least what a 429/503
 * response asks for in Retry-After. Hand-written rather than p-retry 7: its `randomize` multiplies
 * the delay by 1–2 (not full jitter) and it has no way to wait for a server-given delay; this is
 * 60 lines.
 */
import { sleep } from '@runner/core';

/** A failed attempt: a network error, a timeout, a bad status or a broken body. */
export class AttemptError extends Error {
  constructor(
    readonly kind: 'network' | 'status' | 'body',
    message: string,
    readonly transient: boolean,
    readonly extra: { status?: number; statusText?: string; retryAfterMs?: number; serverMessage?: string; hint?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AttemptError';
  }
}

export interface RetryPolicy {
  max: number;
  baseMs: number;
  maxMs: number;
  maxRetryAfterMs: number;
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  error: AttemptError;
}

/** Full-jitter delay before retry number `n` (1-based). */
export function backoffMs(n: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, random: () => number = Math.random): number {
  const window = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(n - 1, 30));
  return Math.floor(random() * window);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/**
 * Runs `fn` until it succeeds, a non-transient {@link AttemptError} or any other error is thrown,
 * or the retries are spent; then rethrows the last error with `attempts` attached.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  signal: AbortSignal,
  fn: (attempt: number) => Promise<T>,
  onRetry?: (info: RetryInfo) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (!(err instanceof AttemptError)) throw err;
      if (!err.transient || attempt > policy.max) throw Object.assign(err, { attempts: attempt });
      let delay = backoffMs(attempt, policy);
      const ra = err.extra.retryAfterMs;
      if (ra !== undefined) {
        if (ra > policy.maxRetryAfterMs) {
          throw Object.assign(
            new AttemptError(err.kind, `${err.message}; the server asked to wait ${Math.ceil(ra / 1000)} s (Retry-After), more than retries.maxRetryAfterMs`, false, err.extra),
            { attempts: attempt },
          );
        }
        delay = Math.max(delay, ra);
      }
      onRetry?.({ attempt, delayMs: delay, error: err });
      await sleep(delay, signal);
    }
  }
}

/** Waits, or rejects with the signal's reason when it aborts: the core's `sleep`. */
export { sleep };
