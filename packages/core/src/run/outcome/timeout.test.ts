import { describe, expect, test } from 'vitest';
import { classifyAttempt, type AttemptFacts } from './classify.js';

/** A failed attempt of `work/cycle=1`; each test overrides what its rule looks at. */
const RETRIES = { max: 2, backoff: { initialMs: 1000, factor: 2, maxMs: 5000 } };

function failedAttempt(over: Partial<AttemptFacts> = {}, error: Record<string, unknown> = {}): AttemptFacts {
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

describe('outcome: timed out', () => {
  test('a task stopped by its stage’s timeout fails with RUNNER_TASK_TIMEOUT naming the limit, and is retried', () => {
    const { outcome } = classifyAttempt(failedAttempt({ cancelKind: 'timeout', cancelReason: 'timed out after 500 ms', timeoutMs: 500 }, { code: 'RUNNER_TASK_ABORTED' }));
    expect(outcome.state).toBe('pending');
    if (outcome.state !== 'pending') throw new Error('unreachable');
    expect(outcome.error?.code).toBe('RUNNER_TASK_TIMEOUT');
    expect(outcome.error?.message).toBe('work/cycle=1: timed out after 500 ms');
  });
});
