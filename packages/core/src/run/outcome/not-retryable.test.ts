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

describe('outcome: an error that says a retry cannot help fails at once', () => {
  test('retryable: false on the plugin’s error', () => {
    const { outcome } = classifyAttempt(failedAttempt({}, { retryable: false, code: 'BAD_SYMBOL' }));
    expect(outcome.state).toBe('failed');
    if (outcome.state !== 'failed') throw new Error('unreachable');
    expect(outcome.note).toMatch(/^failed \(not retryable\): /);
    expect(outcome.error.code).toBe('RUNNER_PLUGIN_FAILED');
    expect(outcome.error.retryable).toBe(false);
    expect(outcome.error.cause?.code).toBe('BAD_SYMBOL');
  });

  test('an error without a retryable field may be retried', () => {
    expect(classifyAttempt(failedAttempt({}, { code: 'EFLAKY' })).outcome.state).toBe('pending');
  });
});
