import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { storeCorrupt, storeUnwritable } from '../errors.js';
import * as attempts from './attempts.js';
import * as checkpoints from './checkpoints.js';
import * as commands from './task-commands.js';
import { dbOptions, openDbs, STORE_FILE, type StoreDbs } from './db.js';
import * as feed from './feed.js';
import { StoreFiles } from './file-identity.js';
import { checkStoreFile, stateEntryProblem, taskRecordProblem } from './integrity.js';
import * as owners from './owners.js';
import * as planSync from './plan-sync.js';
import {
  emptyCounts,
  type CheckpointRecord,
  type OwnerRecord,
  type OwnerRef,
  type PlannedTaskInput,
  type PlanSync,
  type Retention,
  type RunMeta,
  type StageSnapshot,
  type StateCounts,
  type StoredEvent,
  type TaskOutcome,
  type TaskProgress,
  type TaskRecord,
  type TaskStateEntry,
} from './types.js';

export { dbOptions, ENCODER, STORE_FILE } from './db.js';
export { ownerAlive } from './owners.js';
// The store's records are defined in types.ts; these names were imported from here before.
export type { PlannedTaskInput, PlanSync, Retention, StageSnapshot, TaskOutcome, TaskState } from './types.js';

const FORMAT_VERSION = 1;
const MAX_READERS = 1024;

/**
 * The durable run store on LMDB. Every state change is one transaction: the callback runs inside
 * LMDB's write lock, so check-and-set is atomic across threads and processes, and the returned
 * promise resolves once the transaction is committed.
 */
export class RunStore {
  readonly dir: string;
  readonly path: string;
  /** The store and lock files' identity at open (undefined when opened read-only). */
  readonly files?: StoreFiles;
  /** The LMDB databases: private, so every change goes through one of the methods below. */
  private readonly db: StoreDbs;

  private constructor(dir: string, env: RootDatabase, files?: StoreFiles) {
    this.dir = dir;
    this.files = files;
    this.path = join(dir, STORE_FILE);
    this.db = openDbs(dir, env);
  }

  /**
   * Opens (creating if needed) the store in `dir`. Errors name the directory and what to do.
   * `checked`: the caller's runner opened and checked this store already (a task's worker thread
   * or process); the file check is skipped, since it would race with that runner's commits (on a
   * full disk the file can lag its header by more than the check's slack for a moment).
   */
  static open(dir: string, options: { readOnly?: boolean; checked?: boolean } = {}): RunStore {
    if (!options.checked) checkStoreFile(dir, STORE_FILE);
    try {
      if (!options.readOnly) mkdirSync(dir, { recursive: true });
      const files = options.readOnly ? undefined : StoreFiles.before(dir, STORE_FILE);
      const env = open({
        path: join(dir, STORE_FILE),
        noSubdir: true,
        maxDbs: 128,
        // Every worker thread holds a reader slot; LMDB's default of 126 runs out at ~60 threads
        // (the pool may start twice pool.threads), and lmdb's addon aborts the process then.
        maxReaders: MAX_READERS,
        readOnly: options.readOnly ?? false,
      });
      return new RunStore(dir, env, files?.opened());
    } catch (err) {
      throw storeUnwritable(dir, err);
    }
  }

  /** Throws when the store or its lock file was deleted or replaced since this handle opened it. */
  checkFiles(): void {
    const err = this.files?.check();
    if (err) throw err;
  }

  async close(): Promise<void> {
    await this.db.env.close();
  }

  /** Makes the next reads see what other processes committed. */
  refresh(): void {
    this.db.env.resetReadTxn();
  }

  /** Every task's state from the compact index (no full records decoded). */
  *stateEntries(): Iterable<[string, TaskStateEntry]> {
    for (const { key, value } of this.db.states.getRange()) {
      const bad = stateEntryProblem(key, value);
      if (bad) throw storeCorrupt(this.dir, bad);
      yield [key, value];
    }
  }

  /** A decoded task record, checked: a damaged one is named instead of shown as real. */
  private checked(key: string, value: unknown): TaskRecord {
    const bad = taskRecordProblem(key, value);
    if (bad) throw storeCorrupt(this.dir, bad);
    return value as TaskRecord;
  }

  /** Every task record, checked, in id order. */
  *taskEntries(): Iterable<TaskRecord> {
    for (const { key, value } of this.db.tasks.getRange()) yield this.checked(key, value);
  }

  /**
   * Every task record with its key, in id order, as stored: not checked, for readers that name or
   * skip a damaged record themselves (`taskRecordProblem`).
   */
  *storedTasks(): Iterable<{ key: string; value: TaskRecord }> {
    yield* this.db.tasks.getRange();
  }

  /** Builds the state index of a store written before it existed. */
  private async ensureStateIndex(): Promise<void> {
    const first = [...this.db.states.getKeys({ limit: 1 })];
    if (first.length > 0) return;
    const anyTask = [...this.db.tasks.getKeys({ limit: 1 })];
    if (anyTask.length === 0) return;
    await this.db.tasks.transaction(() => {
      for (const { value } of this.db.tasks.getRange()) this.db.states.put(value.id, [value.state, value.retryAt ?? 0, value.owner?.id ?? '']);
    });
  }

  getMeta(): RunMeta | undefined {
    return this.db.meta.get('run') as RunMeta | undefined;
  }

  async initMeta(name: string, specPath: string): Promise<RunMeta> {
    await this.ensureStateIndex();
    return this.db.meta.transaction(() => {
      const existing = this.db.meta.get('run') as RunMeta | undefined;
      if (existing) return existing;
      const meta: RunMeta = { name, specPath, createdAt: Date.now(), formatVersion: FORMAT_VERSION };
      this.db.meta.put('run', meta);
      return meta;
    });
  }

  async setPlanDigest(digest: string): Promise<void> {
    await this.db.meta.transaction(() => {
      const m = this.db.meta.get('run') as RunMeta;
      this.db.meta.put('run', { ...m, planDigest: digest });
    });
  }

  /** The stages' resolved options as last synced, so a dry run can name the keys that changed. */
  async setStageSnapshot(stages: StageSnapshot): Promise<void> {
    await this.db.meta.put('stages', stages);
  }

  getStageSnapshot(): StageSnapshot | undefined {
    return this.db.meta.get('stages') as StageSnapshot | undefined;
  }

  lastEventSeq(): number {
    return feed.lastEventSeq(this.db);
  }

  /** Events after `afterSeq`, oldest first. */
  *eventsAfter(afterSeq: number, limit = Infinity): Iterable<StoredEvent> {
    yield* feed.eventsAfter(this.db, afterSeq, limit);
  }

  /** Events newest first (to read back the end of the feed). */
  *eventsNewestFirst(): Iterable<StoredEvent> {
    yield* feed.eventsNewestFirst(this.db);
  }

  async recordEvent(type: string, data?: unknown, owner?: string): Promise<StoredEvent> {
    return feed.recordEvent(this.db, type, data, owner);
  }

  /** Keeps the newest `keep` events. */
  async trimEvents(keep: number): Promise<number> {
    return feed.trimEvents(this.db, keep);
  }

  async registerOwner(owner: OwnerRecord): Promise<void> {
    return owners.registerOwner(this.db, owner);
  }

  async heartbeat(ownerId: string, now = Date.now()): Promise<boolean> {
    return owners.heartbeat(this.db, ownerId, now);
  }

  async removeOwner(ownerId: string): Promise<void> {
    return owners.removeOwner(this.db, ownerId);
  }

  getOwner(ownerId: string): OwnerRecord | undefined {
    return this.db.owners.get(ownerId);
  }

  listOwners(): OwnerRecord[] {
    return [...this.db.owners.getRange()].map((e) => e.value);
  }

  getTask(id: string): TaskRecord | undefined {
    const v = this.db.tasks.get(id);
    return v === undefined ? undefined : this.checked(id, v);
  }

  /** Every task record, in id order. */
  allTasks(): TaskRecord[] {
    return [...this.taskEntries()];
  }

  /** Task records whose id starts with `prefix`. */
  tasksWithPrefix(prefix: string): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const { key, value } of this.db.tasks.getRange({ start: prefix })) {
      if (!key.startsWith(prefix)) break;
      out.push(value);
    }
    return out;
  }

  counts(ids?: Iterable<string>): StateCounts {
    const c = emptyCounts();
    if (ids) {
      for (const id of ids) {
        const r = this.db.tasks.get(id);
        if (r) c[r.state]++;
      }
    } else {
      for (const { value } of this.db.tasks.getRange()) c[value.state]++;
    }
    return c;
  }

  /**
   * Inserts planned tasks that are new, and reopens completed tasks whose options or targets
   * changed, together with every completed task downstream of them.
   */
  async syncPlan(planned: PlannedTaskInput[], dependents: Map<string, string[]>): Promise<PlanSync> {
    return planSync.syncPlan(this.db, planned, dependents);
  }

  /** Inserts a child task if it does not exist; returns the current record. */
  async ensureChild(p: PlannedTaskInput): Promise<TaskRecord> {
    return planSync.ensureChild(this.db, p);
  }

  /**
   * Moves tasks from pending to running for `owner`, atomically. Returns the records claimed;
   * tasks that are no longer pending (another runner took them) or are backing off are skipped.
   */
  async claim(ids: string[], owner: OwnerRef, now = Date.now(), maxDelayMs = Infinity): Promise<TaskRecord[]> {
    this.checkFiles();
    return attempts.claim(this.db, ids, owner, now, maxDelayMs);
  }

  /**
   * Ends a running attempt. Only the owner may do this: if the task was meanwhile reset as
   * stale and taken by another runner, nothing is written and undefined is returned.
   */
  async finish(
    id: string,
    ownerId: string,
    outcome: TaskOutcome,
    retention?: Retention,
    progress?: TaskProgress,
  ): Promise<{ record: TaskRecord; removedFiles: string[] } | undefined> {
    return attempts.finish(this.db, id, ownerId, outcome, retention, progress);
  }

  /** Persists the latest progress of running tasks (one transaction for all). */
  async saveProgress(updates: Map<string, TaskProgress>, ownerId: string): Promise<void> {
    return attempts.saveProgress(this.db, updates, ownerId);
  }

  /**
   * Resets tasks left running by runners that are gone. `isStale` decides per owner. Each reset
   * task goes back to pending with the note "interrupted; resumed after restart"; its attempt
   * stays counted and its checkpoints are kept.
   */
  async resetStale(isStale: (owner: OwnerRef, record?: OwnerRecord) => boolean): Promise<TaskRecord[]> {
    return owners.resetStale(this.db, isStale);
  }

  /** Marks a runner as exiting on purpose with tasks running (synchronous: called just before exit). */
  markExiting(ownerId: string): void {
    owners.markExiting(this.db, ownerId);
  }

  /**
   * Cancels tasks: pending ones at once, running ones by flagging them for their owner (or at
   * once when the owner is gone). Completed, failed and cancelled tasks are returned untouched.
   */
  async cancel(ids: string[], ownerGone: (owner: OwnerRef) => boolean): Promise<{ cancelled: string[]; requested: string[]; skipped: TaskRecord[] }> {
    return commands.cancel(this.db, ids, ownerGone);
  }

  /** Moves cancelled or failed tasks back to pending, atomically; others are returned untouched. */
  async resume(ids: string[]): Promise<{ resumed: TaskRecord[]; skipped: TaskRecord[] }> {
    return commands.resume(this.db, ids);
  }

  /**
   * Clears progress of the given tasks: back to pending, no result, no checkpoints. One
   * transaction: a kill leaves all of them reset or none. `refuse` runs inside it, under the
   * write lock, and may throw to abort (e.g. a runner has started meanwhile).
   */
  async reset(ids: string[], refuse?: (owners: OwnerRecord[]) => void): Promise<{ count: number; files: string[] }> {
    return commands.reset(this.db, ids, refuse);
  }

  /** Deletes child tasks of the given parents (used by reset). */
  childIds(parentIds: Set<string>): string[] {
    return commands.childIds(this.db, parentIds);
  }

  /** Hands out the next checkpoint sequence number for a task. */
  async nextCheckpointSeq(taskId: string): Promise<number> {
    return checkpoints.nextCheckpointSeq(this.db, taskId);
  }

  /**
   * Commits a checkpoint record and prunes older ones beyond `keep`. Resolves once committed,
   * with the payload files that are no longer referenced (the caller deletes them).
   */
  async saveCheckpoint(rec: CheckpointRecord, keep: number, ownerId?: string): Promise<{ removedFiles: string[]; stale: boolean }> {
    return checkpoints.saveCheckpoint(this.db, rec, keep, ownerId);
  }

  /** Checkpoint records of a task, newest first (payloads included). */
  listCheckpoints(taskId: string): CheckpointRecord[] {
    return checkpoints.listCheckpoints(this.db, taskId);
  }

  /** The key of every checkpoint record, `[task id, seq]`, in order (no payload decoded). */
  *checkpointKeys(): Iterable<[string, number]> {
    yield* checkpoints.checkpointKeys(this.db);
  }

  /** Every checkpoint record, in key order. */
  *allCheckpoints(): Iterable<CheckpointRecord> {
    yield* checkpoints.allCheckpoints(this.db);
  }

  /** Deletes checkpoints by key; refreshes each task's lastCheckpoint. Returns files to delete. */
  async deleteCheckpoints(keys: [string, number][]): Promise<string[]> {
    return checkpoints.deleteCheckpoints(this.db, keys);
  }

  /**
   * Writes completed task records taken from other stores (`runner gather` imports the shards'
   * results). A record already here, completed with the same fingerprint, targets and end time, is
   * left alone; for each one that changed, completed tasks downstream reopen.
   */
  async adoptTasks(records: TaskRecord[], dependents: Map<string, string[]>, note: string): Promise<{ adopted: string[]; reopened: string[] }> {
    return planSync.adoptTasks(this.db, records, dependents, note);
  }

  /** Snapshot copy of the store into `targetDir` (safe while others write). */
  async backup(targetDir: string): Promise<string> {
    mkdirSync(targetDir, { recursive: true });
    const target = join(targetDir, STORE_FILE);
    rmSync(target, { force: true });
    await this.copyTo(target);
    return target;
  }

  /** LMDB's compacting copy of the store to the file `target` (safe while others write). */
  async copyTo(target: string): Promise<void> {
    await this.db.env.backup(target, true);
  }

  /**
   * A named database of the environment with the store's encoder (a plugin's `ctx.db`), created
   * on first use; undefined on a read-only store that never had it.
   */
  openDb(name: string): Database<unknown, Key> | undefined {
    return this.db.env.openDB(dbOptions(name)) as unknown as Database<unknown, Key> | undefined;
  }
}
