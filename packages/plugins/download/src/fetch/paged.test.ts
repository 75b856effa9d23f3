import { expect, test } from 'vitest';
import { pushRun } from './paged.js';

test('page row counts are kept run-length encoded', () => {
  const runs: number[] = [];
  for (const n of [0, 0, 1000, 1000, 1000, 412]) pushRun(runs, n);
  expect(runs).toEqual([0, 2, 1000, 3, 412, 1]);
});
