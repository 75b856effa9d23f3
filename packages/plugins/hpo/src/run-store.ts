import type { StudyStorage } from './types.js';

/** The name under which the runner keeps the hpo plugin's `ctx.db('studies')` in a run store. */
export const STUDIES_DB = 'plugin:hpo:studies';

/**
 * The studies of a run, read from its store outside a task (reports, scripts, tests): pass a
 * `RunStore` (`RunStore.open(runDir, { readOnly: true })`). Returns undefined before any study
 * was written. Writes are refused: studies change only through their tasks.
 */
export function runStudies(store: { env: { openDB(o: { name: string }): unknown } }): StudyStorage | undefined {
  let db: { get(k: unknown): unknown; getRange(o: object): Iterable<{ key: unknown; value: unknown }> };
  try {
    db = store.env.openDB({ name: STUDIES_DB, encoder: { moreTypes: true } } as { name: string }) as typeof db;
  } catch {
    return undefined;
  }
  if (!db) return undefined;
  return {
    get: <T>(k: unknown) => db.get(k) as T | undefined,
    *range<T>(o = {}) {
      for (const e of db.getRange(o)) yield e as { key: never; value: T };
    },
    transaction: () => Promise.reject(new Error('the studies of a run store are read-only here; they change through their tasks')),
  } as StudyStorage;
}
