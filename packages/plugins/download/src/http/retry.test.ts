import { describe, expect, test } from 'vitest';
import { redactUrl } from '../paths.js';
import { AttemptError, backoffMs, parseRetryAfter, withRetry } from './retry.js';

const policy = { max: 3, baseMs: 100, maxMs: 1000, maxRetryAfterMs: 5000 };

describe('retry', () => {
  test('full jitter: the delay is uniform in [0, min(max, base·2^(n-1))]', () => {
    expect(backoffMs(1, policy, () => 0)).toBe(0);
    expect(backoffMs(1, policy, () => 0.999999)).toBe(99);
    expect(backoffMs(3, policy, () => 0.5)).toBe(200);
    expect(backoffMs(10, policy, () => 0.999999)).toBe(999);
    const samples = Array.from({ length: 2000 }, () => backoffMs(4, policy));
    expect(Math.min(...samples)).toBeLessThan(80);
    expect(Math.max(...samples)).toBeGreaterThan(720);
    expect(Math.max(...samples)).toBeLessThan(800);
  });

  test('Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.UTC(2024, 0, 1, 0, 0, 0);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  test('retries transient failures, waits at least Retry-After, stops on permanent ones', async () => {
    const signal = new AbortController().signal;
    let calls = 0;
    const waits: number[] = [];
    const out = await withRetry(
      { ...policy, baseMs: 1 },
      signal,
      async () => {
        calls++;
        if (calls === 1) throw new AttemptError('status', 'HTTP 429', true, { status: 429, retryAfterMs: 150 });
        if (calls === 2) throw new AttemptError('network', 'reset', true);
        return 'ok';
      },
      (i) => waits.push(i.delayMs),
    );
    expect(out).toBe('ok');
    expect(waits[0]).toBeGreaterThanOrEqual(150);
    expect(waits[1]).toBeLessThanOrEqual(1);

    calls = 0;
    await expect(
      withRetry(policy, signal, async () => {
        calls++;
        throw new AttemptError('status', 'HTTP 404', false, { status: 404 });
      }),
    ).rejects.toMatchObject({ attempts: 1 });
    expect(calls).toBe(1);

    calls = 0;
    await expect(
      withRetry({ ...policy, baseMs: 0 }, signal, async () => {
        calls++;
        throw new AttemptError('status', 'HTTP 500', true, { status: 500 });
      }),
    ).rejects.toMatchObject({ attempts: 4 });
    expect(calls).toBe(4);

    await expect(
      withRetry(policy, signal, async () => {
        throw new AttemptError('status', 'HTTP 429', true, { status: 429, retryAfterMs: 60_000 });
      }),
    ).rejects.toThrow(/asked to wait 60 s \(Retry-After\), more than retries.maxRetryAfterMs/);
  });

  test('other errors pass straight through; an abort stops the wait', async () => {
    const boom = new Error('not an HTTP failure');
    await expect(withRetry(policy, new AbortController().signal, async () => Promise.reject(boom))).rejects.toBe(boom);
    const ac = new AbortController();
    const p = withRetry({ ...policy, baseMs: 10_000, maxMs: 10_000 }, ac.signal, async () => {
      throw new AttemptError('network', 'reset', true);
    }, () => setTimeout(() => ac.abort(new Error('cancelled')), 10));
    await expect(p).rejects.toThrow('cancelled');
  });

  test('URLs in messages lose their secrets', () => {
    expect(redactUrl('https://api.x.org/obs?series_id=DGS10&api_key=abc123&file_type=json')).toBe('https://api.x.org/obs?series_id=DGS10&api_key=***&file_type=json');
    expect(redactUrl('https://user:pw@host/a?token=t&x=1')).toBe('https://***@host/a?token=***&x=1');
  });
});
