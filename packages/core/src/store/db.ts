/**
 * The named LMDB databases of a run store, handed to the store's parts (feed, owners, attempts,
 * checkpoints, ...). Only `RunStore` holds one: nothing outside `store/` touches a database.
 */
import type { Database, DatabaseOptions, Key, RootDatabase } from 'lmdb';
import type { CheckpointRecord, OwnerRecord, StoredEvent, TaskRecord, TaskStateEntry } from './types.js';

export const STORE_FILE = 'store.mdb';
const MAX_NOTES = 10;
const STRUCTURES = Symbol.for('structures');
/** msgpackr's default corrupts typed arrays; `moreTypes` round-trips them (and Maps, Sets). */
export const ENCODER = { moreTypes: true } as const;

/** Options for a named database with our encoder (lmdb's types do not list `encoder`). */
export function dbOptions(name: string, extra: Partial<DatabaseOptions> = {}): DatabaseOptions & { name: string } {
  return { name, encoder: ENCODER, ...extra } as DatabaseOptions & { name: string };
}

export interface StoreDbs {
  /** The store's directory (named in errors). */
  dir: string;
  env: RootDatabase;
  tasks: Database<TaskRecord, string>;
  /** A compact index of every task's state (and owner, retry time), read at startup. */
  states: Database<TaskStateEntry, string>;
  checkpoints: Database<CheckpointRecord, [string, number]>;
  events: Database<StoredEvent, number>;
  owners: Database<OwnerRecord, string>;
  meta: Database<unknown, string>;
}

export function openDbs(dir: string, env: RootDatabase): StoreDbs {
  // On a read-only store a database is missing while the runner that creates the store has not
  // committed its first transaction yet (a `status` or `study` that looks in that moment): it
  // reads as empty, as the store is then.
  const named = <V, K extends Key>(name: string, extra: Partial<DatabaseOptions> = {}) => (env.openDB(dbOptions(name, extra)) as Database<V, K> | undefined) ?? emptyDatabase<V, K>(dir, name);
  return {
    dir,
    env,
    tasks: named('tasks', { sharedStructuresKey: STRUCTURES }),
    states: named('states'),
    checkpoints: named('checkpoints'),
    events: named('events'),
    owners: named('owners'),
    meta: named('meta'),
  };
}

/** A database a read-only store does not have yet: every read finds nothing, a write is refused. */
function emptyDatabase<V, K extends Key>(dir: string, name: string): Database<V, K> {
  const refuse = () => {
    throw new Error(`the run store ${dir} is open read-only and has no "${name}" database yet`);
  };
  const empty = {
    get: () => undefined,
    getRange: () => [],
    getKeys: () => [],
    getValues: () => [],
    doesExist: () => false,
    put: refuse,
    putSync: refuse,
    remove: refuse,
    transaction: refuse,
  };
  return empty as unknown as Database<V, K>;
}

/** Writes a task record and its state index entry; must run inside a write transaction. */
export function putTask(db: StoreDbs, rec: TaskRecord): void {
  db.tasks.put(rec.id, rec);
  const entry: TaskStateEntry = [rec.state, rec.retryAt ?? 0, rec.owner?.id ?? ''];
  db.states.put(rec.id, entry);
}

export function pushNote(notes: string[], note: string): string[] {
  const out = [...notes, `${new Date().toISOString()} ${note}`];
  return out.length > MAX_NOTES ? out.slice(out.length - MAX_NOTES) : out;
}
