import { describe, expect, test } from 'vitest';
import { environmentFault } from '../environment-fault.js';
import { classifyAttempt } from './classify.js';
import { failedAttempt } from './failed-attempt.test-fixture.js';

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

  test('a store the task found damaged or gone stops the run too: no task is failed in it', () => {
    for (const code of ['RUNNER_STORE_CORRUPT', 'RUNNER_STORE_GONE', 'RUNNER_STORE_UNWRITABLE']) {
      const error = { name: 'RunnerError', code: 'RUNNER_PLUGIN_FAILED', message: '[big] the run store is damaged', cause: { name: 'RunnerError', code, message: 'the run store is damaged' } };
      expect(environmentFault(error, '/runs/x')).toBe(code);
      expect(classifyAttempt(failedAttempt({ environmentFault: environmentFault(error, '/runs/x'), outcome: { ok: false, aborted: false, error } })).outcome.state).toBe('pending');
    }
  });
});
