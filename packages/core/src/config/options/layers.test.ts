import { describe, expect, test } from 'vitest';
import { resolveStageOptions } from '../options.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    steps: { type: 'integer', minimum: 1, default: 10 },
    lr: { type: 'number', default: 0.1 },
    model: { type: 'object', properties: { units: { type: 'integer', default: 8 }, act: { type: 'string', default: 'relu' } }, default: {} },
  },
};

describe('resolveStageOptions: layers', () => {
  test('later layers win key by key, nested objects merge, and schema defaults fill the rest', () => {
    const { options, issues } = resolveStageOptions({ schema, layers: [{ lr: 0.5, model: { units: 4 } }, { model: { act: 'tanh' } }] });
    expect(issues).toEqual([]);
    expect(options).toEqual({ steps: 10, lr: 0.5, model: { units: 4, act: 'tanh' } });
  });

  test('no layer is changed, and frozen layers are fine (the result is a fresh object)', () => {
    const stage = Object.freeze({ model: Object.freeze({ units: 4 }) });
    const over = { steps: 3 };
    const { options } = resolveStageOptions({ schema, layers: [stage, over] });
    expect(stage).toEqual({ model: { units: 4 } });
    expect(over).toEqual({ steps: 3 });
    options.steps = 7;
    (options.model as Record<string, unknown>).units = 9;
    expect(stage.model.units).toBe(4);
  });

  test('a layer that is not a plain object counts as empty', () => {
    const { options } = resolveStageOptions({ schema, layers: [undefined, [1, 2], 'x', { steps: 2 }] });
    expect(options).toEqual({ steps: 2, lr: 0.1, model: { units: 8, act: 'relu' } });
  });

  test('keys that would reach Object.prototype are dropped from override layers', () => {
    const over = JSON.parse('{"__proto__": {"polluted": true}, "steps": 4}');
    const { options } = resolveStageOptions({ schema, layers: [{}, over] });
    expect(options).toEqual({ steps: 4, lr: 0.1, model: { units: 8, act: 'relu' } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
