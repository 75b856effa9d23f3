import { describe, expect, test } from 'vitest';
import { classifyAttempt } from './classify.js';
import { failedAttempt } from './failed-attempt.test-fixture.js';

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
