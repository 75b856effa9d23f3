/** Waits, or rejects with the signal's reason when it aborts: the core's `sleep`. */
export { sleep } from '@runner/core';

/**
 * Full-jitter exponential backoff (AWS's "Exponential Backoff and Jitter"): a random wait in
 * [0, min(max, base × 2^(n-1))] before retry `n` (1-based), the same rule as the download plugin.
 */
export function backoffMs(n: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** Math.min(n - 1, 30)));
}
