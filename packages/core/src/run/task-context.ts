// The task context moved to worker/ (worker-side code lives apart from the config loader); this
// name stays importable from here for the public entry point.
export { createPluginDb } from '../worker/task-context.js';
