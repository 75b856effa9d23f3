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

describe('outcome: interrupted', () => {
  test('a task stopped by SIGINT goes back to pending without counting a failure, to resume from its checkpoint', () => {
    const c = classifyAttempt(failedAttempt({ cancelKind: 'interrupt', cancelReason: 'interrupted by SIGINT', stopping: true }));
    expect(c).toEqual({ outcome: { state: 'pending', runMs: 12, note: 'interrupted by SIGINT; resumes from its last checkpoint' } });
    expect(c.stopRun).toBeUndefined();
  });
});
