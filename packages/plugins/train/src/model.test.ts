import { describe, expect, test } from 'vitest';
import { inferShapes } from './model.js';
import type { LayerSpec } from './schema.js';

const dense = (units: number): LayerSpec => ({ dense: { units, activation: 'relu', useBias: true, l2: 0 } });
const lstm = (units: number, returnSequences = false): LayerSpec => ({ lstm: { units, returnSequences, activation: 'tanh', dropout: 0, recurrentDropout: 0, l2: 0 } });

describe('layer shapes', () => {
  test('infers the shapes of a valid stack', () => {
    const layers: LayerSpec[] = [
      { conv1d: { filters: 6, kernelSize: 3, strides: 1, padding: 'valid', activation: 'relu', l2: 0 } },
      { pooling: { type: 'max', size: 2, padding: 'valid', global: false } },
      lstm(5, true),
      { flatten: {} },
      { dropout: { rate: 0.1 } },
      dense(1),
    ];
    expect(inferShapes(layers, [10, 4], 10)).toEqual([[8, 6], [4, 6], [4, 5], [20], [20], [1]]);
  });

  test('a sequence layer on flat samples names the layer, the shape and the window', () => {
    expect(() => inferShapes([lstm(4), dense(1)], [8], 1)).toThrow(
      'model.layers[0] (lstm) needs sequences of shape [steps, features] but gets [8] per sample (data.window is 1, so each sample is a flat feature vector; set data.window > 1 for sequences)',
    );
  });

  test('a kernel longer than the window', () => {
    expect(() => inferShapes([{ conv1d: { filters: 2, kernelSize: 9, strides: 1, padding: 'valid', activation: 'linear', l2: 0 } }, { flatten: {} }, dense(1)], [4, 3], 4)).toThrow(
      'model.layers[0] (conv1d) has kernelSize 9 but gets only 4 steps (input [4, 3])',
    );
  });

  test('an output that is not one value per sample', () => {
    expect(() => inferShapes([dense(8), dense(3)], [5], 1)).toThrow('model.layers[1] (dense) outputs [3] per sample but the label is one value ([1])');
    let err: { hint?: string } = {};
    try {
      inferShapes([lstm(4, true), dense(1)], [6, 5], 6);
    } catch (e) {
      err = e as { hint?: string; message: string };
      expect((e as Error).message).toBe('model.layers[1] (dense) outputs [6, 1] per sample but the label is one value ([1])');
    }
    expect(err.hint).toMatch(/flatten/);
  });
});
