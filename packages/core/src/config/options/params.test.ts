import { describe, expect, test } from 'vitest';
import { resolveStageOptions } from '../options.js';

const schema = {
  type: 'object',
  properties: { lr: { type: 'number' }, name: { type: 'string' }, model: { type: 'object' } },
};

describe('resolveStageOptions: params', () => {
  test('a whole-value placeholder takes the parameter with its type; one inside a string is formatted', () => {
    const { options, issues } = resolveStageOptions({ schema, layers: [{ lr: '${params.lr}', name: 'trial-${params.n}' }], params: { lr: 0.01, n: 3 } });
    expect(issues).toEqual([]);
    expect(options).toEqual({ lr: 0.01, name: 'trial-3' });
  });

  test('a parameter no placeholder uses is set at its dotted path, creating objects and arrays', () => {
    const { options } = resolveStageOptions({ schema, layers: [{ model: { layers: [{ units: 4 }] } }], params: { 'model.layers.0.units': 16, 'model.opt.lr': 0.2 } });
    expect(options).toEqual({ model: { layers: [{ units: 16 }], opt: { lr: 0.2 } } });
  });

  test('params are applied after every layer: a child override of a placeholder is filled too', () => {
    const { options } = resolveStageOptions({ schema, layers: [{ lr: 1 }, { lr: '${params.lr}' }], params: { lr: 0.5 } });
    expect(options.lr).toBe(0.5);
  });
});
