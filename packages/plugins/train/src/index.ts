import { definePlugin } from '@runner/core';

/** Placeholder until the plugin lands; see its issue. */
export default definePlugin({
  name: 'train',
  version: '0.0.0',
  description: 'Keras-style trainer on TensorFlow.js with exact resume from checkpoints (not implemented yet)',
  schema: { type: 'object', additionalProperties: true },
  run() {
    throw Object.assign(new Error('the train plugin is not implemented yet'), { retryable: false });
  },
});
