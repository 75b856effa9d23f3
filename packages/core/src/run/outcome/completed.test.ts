import { describe, expect, test } from 'vitest';
import { classifyAttempt } from './classify.js';
import { failedAttempt } from './failed-attempt.test-fixture.js';

describe('outcome: completed', () => {
  test('a plugin that returned completes with its result and run time', () => {
    const c = classifyAttempt(failedAttempt({ outcome: { ok: true, result: { loss: 0.1 } }, runMs: 40 }));
    expect(c).toEqual({ outcome: { state: 'completed', result: { loss: 0.1 }, runMs: 40 } });
  });

  test('a result wins over a cancel that came too late', () => {
    const c = classifyAttempt(failedAttempt({ outcome: { ok: true, result: 1 }, cancelKind: 'cancel', cancelReason: 'cancelled by `runner cancel`' }));
    expect(c.outcome.state).toBe('completed');
  });
});
