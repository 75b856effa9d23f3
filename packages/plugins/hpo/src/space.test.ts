import { describe, expect, test } from 'vitest';
import { contains, diffSpaces, parseSpace, spaceHash, toExternal, toInternal, type SpaceConfig } from './space.js';

describe('search spaces', () => {
  test('parses floats, ints, steps, logs and choices; snaps high onto the step grid', () => {
    const { space, issues } = parseSpace({
      lr: { float: [1e-4, 1e-1], log: true },
      units: { int: [16, 250], step: 16 },
      drop: { float: [0, 0.5], step: 0.1 },
      act: { choice: ['relu', 'tanh'] },
    });
    expect(issues).toEqual([]);
    expect(space.lr).toEqual({ type: 'float', low: 1e-4, high: 1e-1, log: true });
    expect(space.units).toEqual({ type: 'int', low: 16, high: 240, log: false, step: 16 });
    expect(space.drop).toEqual({ type: 'float', low: 0, high: 0.5, log: false, step: 0.1 });
    expect(space.act).toEqual({ type: 'categorical', choices: ['relu', 'tanh'] });
  });

  test('rejects low > high, empty choices and log ranges reaching 0, with the path of each', () => {
    const { issues } = parseSpace({
      lr: { float: [0.1, 0.0001] },
      act: { choice: [] },
      wd: { float: [0, 0.1], log: true },
      n: { int: [0, 8], log: true },
      both: { float: [0.1, 1], log: true, step: 0.1 },
      none: {},
      frac: { int: [1.5, 4] },
    } as unknown as SpaceConfig);
    const byPath = Object.fromEntries(issues.map((i) => [i.path.join('.'), i.message]));
    expect(byPath['lr.float']).toBe('low 0.1 is above high 0.0001');
    expect(byPath['act.choice']).toBe('has no choices');
    expect(byPath['wd.float.0']).toBe('a log-scaled float needs low > 0 (got 0)');
    expect(byPath['n.int.0']).toBe('a log-scaled int needs low ≥ 1 (got 0)');
    expect(byPath['both.step']).toBe('log and step cannot be combined (step 0.1)');
    expect(byPath['none']).toBe('needs one of float, int or choice');
    expect(byPath['frac.int.0']).toBe('low must be an integer (got 1.5)');
    expect(parseSpace({}).issues[0]?.message).toBe('is empty');
  });

  test('values move between the objective and the samplers', () => {
    const { space } = parseSpace({ units: { int: [16, 256], step: 16 }, act: { choice: ['relu', 'tanh'] }, d: { float: [0, 1], step: 0.1 } });
    expect(toExternal(space.units!, 37.9)).toBe(32);
    expect(toExternal(space.units!, 1000)).toBe(256);
    expect(toExternal(space.d!, 0.3000001)).toBe(0.3);
    expect(toInternal(space.act!, 'tanh')).toBe(1);
    expect(toExternal(space.act!, 1)).toBe('tanh');
    expect(contains(space.units!, 48)).toBe(true);
    expect(contains(space.units!, 50)).toBe(false);
    expect(contains(space.act!, 'sigmoid')).toBe(false);
    expect(contains(space.d!, 0.7)).toBe(true);
  });

  test('a changed space is described parameter by parameter and hashes differently', () => {
    const a = parseSpace({ lr: { float: [1e-4, 1e-1], log: true }, act: { choice: ['relu'] } }).space;
    const b = parseSpace({ lr: { float: [1e-5, 1e-1], log: true }, units: { int: [1, 4] } }).space;
    expect(diffSpaces(a, b)).toEqual(['changed lr: float [0.0001, 0.1] (log) → float [0.00001, 0.1] (log)', 'added units: int [1, 4]', 'removed act']);
    expect(spaceHash(a)).not.toBe(spaceHash(b));
    expect(spaceHash(a)).toBe(spaceHash(parseSpace({ act: { choice: ['relu'] }, lr: { log: true, float: [1e-4, 1e-1] } }).space));
  });
});
