import { definePlugin } from '@runner/core';
import { resolvesToNative } from './backend.js';
import type { TrainResult } from './run.js';
import { RESUME_SAFE, schema, type TrainOptions } from './schema.js';

export type { TrainOptions, TrainResult };
export type { BuildModel, BuildModelInfo } from './model.js';
export type { Normaliser } from './dataset.js';

/**
 * The Keras-style trainer: features and labels from a downloaded series, a model from config,
 * fit on TensorFlow.js with checkpoints every N epochs and on cancel and failure, and a resume
 * that ends with exactly the weights of an uninterrupted run (cpu and wasm backends).
 */
export default definePlugin<TrainOptions, TrainResult>({
  name: 'train',
  version: '1.0.0',
  description: 'Keras-style trainer on TensorFlow.js: checkpoints every N epochs and on cancel/failure, bit-identical resume, backends from GPU to CPU',
  schema,
  resumeSafe: RESUME_SAFE,
  // Native TensorFlow fails in a second worker thread, and a GPU is best held by one process.
  isolation: (options) => (resolvesToNative(options) ? 'process' : 'thread'),
  async run(ctx) {
    const { runTrain } = await import('./run.js');
    return runTrain(ctx);
  },
});
