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

describe('outcome: cancelled', () => {
  test('a task stopped by `runner cancel` is cancelled with the reason as its note, not failed or retried', () => {
    const c = classifyAttempt(failedAttempt({ cancelKind: 'cancel', cancelReason: 'cancelled by `runner cancel`' }, { code: 'RUNNER_TASK_ABORTED' }));
    expect(c).toEqual({ outcome: { state: 'cancelled', runMs: 12, note: 'cancelled by `runner cancel`' } });
  });

  test('without a reason the note says cancelled', () => {
    expect(classifyAttempt(failedAttempt({ cancelKind: 'cancel' })).outcome).toMatchObject({ note: 'cancelled' });
  });
});
