import { describe, expect, test } from 'vitest';
import { StageEta } from './eta.js';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('StageEta', () => {
  test('a resumed task counts only the work done in this session', () => {
    const c = clock();
    const eta = new StageEta(c.now);
    // Resumes at 50%; reaches 60% in 10 s: a tenth of a task per 10 s, 40 s left for it.
    eta.start('a', 'train', 0.5);
    c.advance(10_000);
    eta.progress('a', 0.6);
    expect(eta.estimate({ train: 1 }, 2).ms).toBeCloseTo(40_000, 3);
    // Two more fresh tasks of the stage after it: (0.4 + 2) tasks at 0.01/s on 2 threads.
    expect(eta.estimate({ train: 3 }, 2).ms).toBeCloseTo(120_000, 3);
  });

  test('unknown until a stage with work left has been measured, and says which', () => {
    const c = clock();
    const eta = new StageEta(c.now);
    eta.start('a', 'download', 0);
    c.advance(2000);
    eta.end('a', true);
    expect(eta.estimate({ download: 2, train: 4 }, 2)).toEqual({ unknown: 'no train work measured yet' });
    expect(eta.estimate({ download: 2 }, 2).ms).toBeCloseTo(2000, 3);
  });

  test('nothing left that can run: zero, not a guess', () => {
    const eta = new StageEta(clock().now);
    expect(eta.estimate({ work: 0 }, 4)).toEqual({ ms: 0 });
  });

  test('fewer tasks than threads: the tasks, not the threads, set the pace', () => {
    const c = clock();
    const eta = new StageEta(c.now);
    eta.start('a', 'w', 0);
    c.advance(1000);
    eta.end('a', true);
    expect(eta.estimate({ w: 1 }, 8).ms).toBeCloseTo(1000, 3);
  });
});
