import { describe, expect, test } from 'vitest';
import { classifyAttempt } from './classify.js';
import { failedAttempt } from './failed-attempt.test-fixture.js';

describe('outcome: interrupted', () => {
  test('a task stopped by SIGINT goes back to pending without counting a failure, to resume from its checkpoint', () => {
    const c = classifyAttempt(failedAttempt({ cancelKind: 'interrupt', cancelReason: 'interrupted by SIGINT', stopping: true }));
    expect(c).toEqual({ outcome: { state: 'pending', runMs: 12, note: 'interrupted by SIGINT; resumes from its last checkpoint' } });
    expect(c.stopRun).toBeUndefined();
  });
});
