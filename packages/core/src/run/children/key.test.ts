import { describe, expect, test } from 'vitest';
import type { ResolvedJobSpec } from '../../config/types.js';
import { childKeyProblem, childStage } from './child-key.js';

const running = { stopping: false, isChild: false };

describe('children: which requests may start', () => {
  test('keys of letters, digits, _, ., = and - are accepted; they become the last segment of the child id', () => {
    for (const key of ['trial=17', 'a', 'fold.2', 'x_y-z']) expect(childKeyProblem(key, running)).toBeUndefined();
  });

  test('a key with a slash, a space, a leading symbol or no key at all is refused with an example', () => {
    for (const key of ['a/b', 'a b', '-x', '', undefined, 7]) {
      const p = childKeyProblem(key, running);
      expect(p?.message).toBe(`child key ${JSON.stringify(key)} is invalid`);
      expect(p?.hint).toContain('"trial=17"');
    }
  });

  test('a stopping parent starts no children; a child starts no children of its own', () => {
    expect(childKeyProblem('k', { stopping: true, isChild: false })?.message).toBe('cannot start child "k": the parent is stopping');
    expect(childKeyProblem('k', { stopping: false, isChild: true })?.message).toBe('child tasks cannot start children of their own');
    // Stopping is judged first: a child of a stopping parent hears that.
    expect(childKeyProblem('k', { stopping: true, isChild: true })?.message).toMatch(/stopping/);
  });

  test('a child names a stage of the spec, or hears which stages there are', () => {
    const spec = { stages: [{ id: 'data' }, { id: 'train' }] } as unknown as ResolvedJobSpec;
    expect(childStage(spec, 'train')).toEqual({ stage: { id: 'train' } });
    expect(childStage(spec, 'trian')).toEqual({ message: 'no stage "trian" in the job spec', hint: 'Stages: data, train.' });
  });
});
