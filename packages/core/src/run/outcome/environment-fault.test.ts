import { describe, expect, test } from 'vitest';
import { environmentFault } from '../environment-fault.js';
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

describe('outcome: an environment fault stops the run, not the task', () => {
  test('the task stays pending without counting a failure, and the run is told to stop with the code', () => {
    const error = { name: 'Error', message: 'ENOSPC: no space left on device, write', code: 'ENOSPC' };
    const c = classifyAttempt(failedAttempt({ environmentFault: environmentFault(error, '/runs/x'), outcome: { ok: false, aborted: false, error } }));
    expect(c.outcome).toEqual({ state: 'pending', runMs: 12, note: 'stopped: ENOSPC: no space left on device, write; resumes from its last checkpoint' });
    expect(c.stopRun).toEqual({ code: 'ENOSPC', error });
  });

  test('it wins over a cancel that was under way', () => {
    const c = classifyAttempt(failedAttempt({ environmentFault: 'EIO', cancelKind: 'cancel' }));
    expect(c.outcome.state).toBe('pending');
    expect(c.stopRun?.code).toBe('EIO');
  });

  test('a plugin that merely mentions ENOSPC in its message is a plugin failure', () => {
    const error = { name: 'Error', message: 'upstream said ENOSPC' };
    expect(environmentFault(error, '/runs/x')).toBeUndefined();
    expect(classifyAttempt(failedAttempt({ outcome: { ok: false, aborted: false, error } })).stopRun).toBeUndefined();
  });
});
