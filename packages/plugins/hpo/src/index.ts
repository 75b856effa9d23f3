import { definePlugin } from '@runner/core';

/** Placeholder until the plugin lands; see its issue. */
export default definePlugin({
  name: 'hpo',
  version: '0.0.0',
  description: 'Optuna-style hyperparameter studies with TPE, pruning and warm starts (not implemented yet)',
  schema: { type: 'object', additionalProperties: true },
  run() {
    throw Object.assign(new Error('the hpo plugin is not implemented yet'), { retryable: false });
  },
});
