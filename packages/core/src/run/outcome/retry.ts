/** What a failed attempt becomes: a retry after a backoff, or a failure, and why. */
import type { ResolvedRetries } from '../../config/types.js';
import type { SerializedError } from '../../errors.js';
import type { TaskOutcome } from '../../store/lmdb-store.js';

/** A task with no stage (a child running a plugin directly) gets no retries. */
export const NO_RETRIES: ResolvedRetries = { max: 0, backoff: { initialMs: 1000, factor: 2, maxMs: 300_000 } };

export interface FailureFacts {
  error: SerializedError;
  runMs: number;
  retries: ResolvedRetries;
  /** Retries used before this attempt. */
  retriesUsed: number;
  /** The run is stopping: nothing is retried. */
  stopping: boolean;
  now: number;
}

/** The wait before retry number `failures` (1-based): exponential, capped. */
export function backoffMs(retries: ResolvedRetries, failures: number): number {
  return Math.min(retries.backoff.maxMs, retries.backoff.initialMs * retries.backoff.factor ** (failures - 1));
}

/** Whether an error allows a retry: neither it nor its direct cause says it is not retryable. */
export function isRetryable(error: SerializedError): boolean {
  return error.retryable !== false && error.cause?.retryable !== false;
}

/** Retry with backoff while retries are left, the error allows it and the run goes on; else fail. */
export function failureOutcome(f: FailureFacts): TaskOutcome {
  const { error, runMs, retries } = f;
  const failures = f.retriesUsed + 1;
  const retryable = isRetryable(error);
  if (retryable && failures <= retries.max && !f.stopping) {
    const delay = backoffMs(retries, failures);
    return {
      state: 'pending',
      runMs,
      error,
      countFailure: true,
      retryAt: f.now + delay,
      note: `failed (${error.message}); retry ${failures} of ${retries.max} in ${formatMs(delay)}`,
    };
  }
  const why = !retryable ? 'not retryable' : retries.max === 0 ? 'no retries configured' : `${retries.max} retr${retries.max === 1 ? 'y' : 'ies'} used`;
  return { state: 'failed', runMs, error, note: `failed (${why}): ${error.message}` };
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}
