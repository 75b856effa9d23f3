import { describe, expect, test } from 'vitest';
import { classifyAttempt } from './classify.js';
import { failedAttempt } from './failed-attempt.test-fixture.js';

describe('outcome: timed out', () => {
  test('a task stopped by its stage’s timeout fails with RUNNER_TASK_TIMEOUT naming the limit, and is retried', () => {
    const { outcome } = classifyAttempt(failedAttempt({ cancelKind: 'timeout', cancelReason: 'timed out after 500 ms', timeoutMs: 500 }, { code: 'RUNNER_TASK_ABORTED' }));
    expect(outcome.state).toBe('pending');
    if (outcome.state !== 'pending') throw new Error('unreachable');
    expect(outcome.error?.code).toBe('RUNNER_TASK_TIMEOUT');
    expect(outcome.error?.message).toBe('work/cycle=1: timed out after 500 ms');
  });
});
