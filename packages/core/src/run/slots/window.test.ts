import { describe, expect, test } from 'vitest';
import { nextAverage, PREFETCH_BELOW_MS, windowFor } from './window.js';

describe('slots: the window of tasks in flight', () => {
  test('ordinary tasks: as many as the pool has slots', () => {
    expect(windowFor(4, Infinity)).toBe(4);
    expect(windowFor(4, PREFETCH_BELOW_MS)).toBe(4);
  });

  test('very short tasks: many more, so claims overlap and threads never wait', () => {
    expect(windowFor(2, PREFETCH_BELOW_MS - 1)).toBe(256);
    expect(windowFor(8, 1)).toBe(512);
  });

  test('the average starts at the first run and then moves a tenth of the way to each new run', () => {
    expect(nextAverage(Infinity, 40)).toBe(40);
    expect(nextAverage(40, 140)).toBeCloseTo(50);
  });
});
