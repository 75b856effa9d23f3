import { describe, expect, test } from 'vitest';
import { classifyAttempt } from './classify.js';
import { failedAttempt } from './failed-attempt.test-fixture.js';

describe('outcome: a quarantined task whose process died', () => {
  test('fails as RUNNER_TASK_CRASHED naming how the process ended and the runner deaths it was suspected of', () => {
    const { outcome } = classifyAttempt(
      failedAttempt({ quarantine: true, suspectDeaths: 2, retriesUsed: 2, outcome: { ok: false, aborted: false, exited: 'was killed by SIGKILL', error: { name: 'Error', message: 'process exited' } } }),
    );
    expect(outcome.state).toBe('failed');
    if (outcome.state !== 'failed') throw new Error('unreachable');
    expect(outcome.error.code).toBe('RUNNER_TASK_CRASHED');
    expect(outcome.error.message).toContain('was killed by SIGKILL');
    expect(outcome.error.message).toContain('2 runner deaths in a row');
  });

  test('a quarantined task whose plugin threw (its process did not die) is an ordinary plugin failure', () => {
    const { outcome } = classifyAttempt(failedAttempt({ quarantine: true, suspectDeaths: 2 }));
    expect(outcome.state === 'pending' && outcome.error?.code).toBe('RUNNER_PLUGIN_FAILED');
  });

  test('a process that died outside quarantine is a plugin failure too', () => {
    const { outcome } = classifyAttempt(failedAttempt({ outcome: { ok: false, aborted: false, exited: 'exited with code 1', error: { name: 'Error', message: 'x' } } }));
    expect(outcome.state === 'pending' && outcome.error?.code).toBe('RUNNER_PLUGIN_FAILED');
  });
});
