/**
 * `@runner/core/cli`: what a plugin's own CLI command (`commands` in its definition) needs to
 * read a run and print like the built-in commands. Kept apart from `@runner/core` so that the
 * plugin contract does not carry the CLI.
 */
export { loadJobSpec } from '../config/load.js';
export { viewRun, openStore as openRunStore, matchTasks, type RunView } from './shared.js';
export { idMatcher } from '../run/plan.js';
export * as format from './format.js';
export { taskErrorLines, taskErrorJson, type TaskErrorJson } from './task-error.js';
export { exitCodeOf, taskNotFound, usage } from '../errors.js';
