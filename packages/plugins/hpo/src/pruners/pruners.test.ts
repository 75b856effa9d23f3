import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createStudy } from '../study.js';
import type { Direction, PrunerConfig } from '../types.js';
import { percentileOfSorted } from './index.js';

interface Fixture {
  curves: number[][];
  studyName: string;
  cases: { name: string; pruner: PrunerConfig; direction: Direction; prunedAt: number[] }[];
}

// Optuna 3.1's pruners on 30 scripted learning curves, from test/fixtures/optuna-pruner-decisions.py
// (the same ask/report/should_prune/tell sequence in Python); -1 means not pruned.
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/optuna-pruner-decisions.json', import.meta.url), 'utf8')) as Fixture;

describe('pruners make the decisions Optuna 3.1 makes', () => {
  for (const c of fixture.cases) {
    test(c.name, async () => {
      const study = await createStudy({ name: fixture.studyName, pruner: c.pruner, direction: c.direction, sampler: { type: 'random', seed: 0 } });
      const prunedAt: number[] = [];
      for (const curve of fixture.curves) {
        const t = await study.ask();
        let at = -1;
        for (const [step, v] of curve.entries()) {
          t.report(c.direction === 'minimize' ? v : -v, step);
          if (t.shouldPrune()) {
            at = step;
            break;
          }
        }
        if (at >= 0) await study.tell(t, { state: 'pruned' });
        else await study.tell(t, c.direction === 'minimize' ? curve.at(-1)! : -curve.at(-1)!);
        prunedAt.push(at);
      }
      expect(prunedAt).toEqual(c.prunedAt);
      expect(prunedAt.some((x) => x >= 0)).toBe(true);
      await study.close();
    });
  }

  test('percentiles interpolate linearly, as numpy', () => {
    const s = [1, 1.5, 3, 4, 9];
    expect(percentileOfSorted(s, 50)).toBe(3);
    expect(percentileOfSorted(s, 25)).toBe(1.5);
    expect(percentileOfSorted(s, 90)).toBeCloseTo(7, 12);
  });
});
