import { definePlugin } from '@runner/core';

/** Placeholder until the plugin lands; see its issue. */
export default definePlugin({
  name: 'download',
  version: '0.0.0',
  description: 'Downloads market and macro series with resume, retries and atomic files (not implemented yet)',
  schema: { type: 'object', additionalProperties: true },
  run() {
    throw Object.assign(new Error('the download plugin is not implemented yet'), { retryable: false });
  },
});
