// The public face of `@runner/core`: the plugin contract, errors, and running a spec from code.
// Helpers for a plugin's own CLI command are in `@runner/core/cli`, the test kit in
// `@runner/core/testing`; docs/plugins.md ("What is public") lists every entry point.
export { definePlugin } from './plugin/types.js';
export type * from './plugin/types.js';
export type * from './events.js';
export type * from './config/types.js';
export type * from './store/types.js';
export { loadJobSpec, applyParams, type LoadOptions } from './config/load.js';
export { validateSchema as validateOptions, type SchemaIssue } from './config/validate.js';
export { Runner, type RunnerOptions, type RunSummary } from './run/runner.js';
export { planRun, type Plan, type PlannedTask } from './run/plan.js';
export { RunStore } from './store/lmdb-store.js';
export {
  RunnerError,
  PluginError,
  ErrorCodes,
  ERROR_TABLE,
  isRunnerError,
  isPluginError,
  serializeError,
  type ErrorCode,
  type ErrorIssue,
  type PluginErrorOptions,
  type SerializedError,
} from './errors.js';
export { importUserModule, moduleDefault } from './plugin/import-module.js';
export { writeFileAtomic, sha256 } from './util/fs.js';
export { sleep } from './util/sleep.js';
export { createPluginDb as openPluginDb } from './worker/task-context.js';
export { HOST, pidAlive, procStartTime } from './util/proc.js';
export { readEventLog, eventLogParts } from './run/event-log-parts.js';
