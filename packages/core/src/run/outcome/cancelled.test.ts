import { describe, expect, test } from 'vitest';
import { classifyAttempt } from './classify.js';
import { failedAttempt } from './failed-attempt.test-fixture.js';

describe('outcome: cancelled', () => {
  test('a task stopped by `runner cancel` is cancelled with the reason as its note, not failed or retried', () => {
    const c = classifyAttempt(failedAttempt({ cancelKind: 'cancel', cancelReason: 'cancelled by `runner cancel`' }, { code: 'RUNNER_TASK_ABORTED' }));
    expect(c).toEqual({ outcome: { state: 'cancelled', runMs: 12, note: 'cancelled by `runner cancel`' } });
  });

  test('without a reason the note says cancelled', () => {
    expect(classifyAttempt(failedAttempt({ cancelKind: 'cancel' })).outcome).toMatchObject({ note: 'cancelled' });
  });
});
