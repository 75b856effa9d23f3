import { openPluginDb, type RunStore } from '@runner/core';
import type { StudyStorage } from './types.js';

/**
 * The studies of a run, read from its store outside a task (reports, scripts, tests): pass a
 * `RunStore` (`RunStore.open(runDir, { readOnly: true })`). Returns undefined before any study
 * was written. Writes are refused: studies change only through their tasks.
 */
export function runStudies(store: RunStore): StudyStorage | undefined {
  let db: ReturnType<typeof openPluginDb>;
  try {
    db = openPluginDb(store, 'hpo', 'studies');
  } catch {
    return undefined;
  }
  return {
    get: db.get,
    range: db.range,
    transaction: () => Promise.reject(new Error('the studies of a run store are read-only here; they change through their tasks')),
  } as unknown as StudyStorage;
}
