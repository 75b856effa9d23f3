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
