import type { AttemptFacts } from './classify.js';

/** The retry policy of the outcome tests: 2 retries, backoff 1 s doubling up to 5 s. */
export const RETRIES = { max: 2, backoff: { initialMs: 1000, factor: 2, maxMs: 5000 } };

/** A failed attempt of `work/cycle=1`; each test overrides what its rule looks at. */
export function failedAttempt(over: Partial<AttemptFacts> = {}, error: Record<string, unknown> = {}): AttemptFacts {
  return {
    taskId: 'work/cycle=1',
    stage: 'work',
    plugin: 'steps',
    outcome: { ok: false, aborted: false, error: { name: 'Error', message: 'boom', ...error } },
    runMs: 12,
    retries: RETRIES,
    retriesUsed: 0,
    stopping: false,
    now: 1_000_000,
    ...over,
  };
}
