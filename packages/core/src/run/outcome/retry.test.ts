import { describe, expect, test } from 'vitest';
import { classifyAttempt } from './classify.js';
import { backoffMs, formatMs } from './retry.js';
import { failedAttempt, RETRIES } from './failed-attempt.test-fixture.js';

describe('outcome: a failure is retried with backoff while retries are left', () => {
  test('the first failure goes back to pending, counted, due after the initial backoff', () => {
    const { outcome } = classifyAttempt(failedAttempt());
    expect(outcome).toMatchObject({ state: 'pending', countFailure: true, retryAt: 1_000_000 + 1000, runMs: 12 });
    if (outcome.state !== 'pending') throw new Error('unreachable');
    expect(outcome.error?.code).toBe('RUNNER_PLUGIN_FAILED');
    expect(outcome.note).toBe(`failed (${outcome.error!.message}); retry 1 of 2 in 1.0s`);
  });

  test('the backoff grows by its factor and is capped', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(RETRIES, n))).toEqual([1000, 2000, 4000, 5000]);
    const { outcome } = classifyAttempt(failedAttempt({ retriesUsed: 1 }));
    expect(outcome).toMatchObject({ state: 'pending', retryAt: 1_000_000 + 2000 });
  });

  test('with every retry used it fails, saying so', () => {
    const { outcome } = classifyAttempt(failedAttempt({ retriesUsed: 2 }));
    expect(outcome.state).toBe('failed');
    expect('note' in outcome && outcome.note).toMatch(/^failed \(2 retries used\): /);
  });

  test('no retries configured (a child running a plugin directly has none)', () => {
    const { outcome } = classifyAttempt(failedAttempt({ retries: undefined }));
    expect(outcome.state).toBe('failed');
    expect('note' in outcome && outcome.note).toMatch(/^failed \(no retries configured\): /);
  });

  test('a run that is stopping retries nothing', () => {
    expect(classifyAttempt(failedAttempt({ stopping: true })).outcome.state).toBe('failed');
  });

  test('durations in notes read as people write them', () => {
    expect([450, 1500, 12_000, 95_000, 2 * 3600_000 + 5 * 60_000].map(formatMs)).toEqual(['450ms', '1.5s', '12s', '1m35s', '2h05m']);
  });
});
