import { open, type Database, type DatabaseOptions, type RootDatabase } from 'lmdb';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { leaseLost, storeCorrupt, storeUnwritable } from '../errors.js';
import { judgeDeath, type DeathCause, type HeldTask } from '../run/crash-rule.js';
import { StoreFiles } from './file-identity.js';
import { checkStoreFile, stateEntryProblem, taskRecordProblem } from './integrity.js';
import { bootId, HOST, pidAlive } from '../util/proc.js';
import type { SerializedError } from '../errors.js';
import {
  emptyCounts,
  type CheckpointRecord,
  type OwnerRecord,
  type OwnerRef,
  type RunMeta,
  type StateCounts,
  type StoredEvent,
  type TaskProgress,
  type TaskRecord,
  type TaskState,
  type TaskStateEntry,
} from './types.js';

export const STORE_FILE = 'store.mdb';
const FORMAT_VERSION = 1;
const MAX_READERS = 1024;
const MAX_NOTES = 10;
const STRUCTURES = Symbol.for('structures');
/** msgpackr's default corrupts typed arrays; `moreTypes` round-trips them (and Maps, Sets). */
export const ENCODER = { moreTypes: true } as const;

/** Options for a named database with our encoder (lmdb's types do not list `encoder`). */
export function dbOptions(name: string, extra: Partial<DatabaseOptions> = {}): DatabaseOptions & { name: string } {
  return { name, encoder: ENCODER, ...extra } as DatabaseOptions & { name: string };
}

export interface PlannedTaskInput {
  id: string;
  stage: string;
  plugin: string;
  cell: TaskRecord['cell'];
  cycle: number;
  needs: string[];
  fingerprint: string;
  targets: string;
  pluginVersion: string;
  parent?: string;
}

/** What reconciling the plan with the store changed. */
export interface PlanSync {
  inserted: number;
  /** Completed tasks reopened, with the reason. */
  rerun: { id: string; reason: string }[];
  /** Unfinished tasks whose options changed; their old checkpoints will not load. */
  invalidated: string[];
}

export type TaskOutcome =
  | { state: 'completed'; result: unknown; runMs: number }
  | { state: 'failed'; error: SerializedError; runMs: number; note?: string }
  | { state: 'pending'; runMs: number; note: string; retryAt?: number; error?: SerializedError; countFailure?: boolean }
  | { state: 'cancelled'; runMs: number; note: string };

export interface Retention {
  /** Checkpoints kept per unfinished task. */
  keep: number;
  /** Checkpoints kept once a task completes (0 removes them all). */
  keepOnComplete: number;
}

/**
 * The durable run store on LMDB. Every state change is one transaction: the callback runs inside
 * LMDB's write lock, so check-and-set is atomic across threads and processes, and the returned
 * promise resolves once the transaction is committed.
 */
export class RunStore {
  readonly dir: string;
  readonly path: string;
  readonly env: RootDatabase;
  readonly tasks: Database<TaskRecord, string>;
  /** A compact index of every task's state (and owner, retry time), read at startup. */
  readonly states: Database<TaskStateEntry, string>;
  readonly checkpoints: Database<CheckpointRecord, [string, number]>;
  readonly events: Database<StoredEvent, number>;
  readonly owners: Database<OwnerRecord, string>;
  readonly meta: Database<unknown, string>;
  /** The store and lock files' identity at open (undefined when opened read-only). */
  readonly files?: StoreFiles;

  private constructor(dir: string, env: RootDatabase, files?: StoreFiles) {
    this.dir = dir;
    this.files = files;
    this.path = join(dir, STORE_FILE);
    this.env = env;
    this.tasks = env.openDB(dbOptions('tasks', { sharedStructuresKey: STRUCTURES }));
    this.states = env.openDB(dbOptions('states'));
    this.checkpoints = env.openDB(dbOptions('checkpoints'));
    this.events = env.openDB(dbOptions('events'));
    this.owners = env.openDB(dbOptions('owners'));
    this.meta = env.openDB(dbOptions('meta'));
  }

  /** Opens (creating if needed) the store in `dir`. Errors name the directory and what to do. */
  static open(dir: string, options: { readOnly?: boolean } = {}): RunStore {
    checkStoreFile(dir, STORE_FILE);
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
    await this.env.close();
  }

  /** Makes the next reads see what other processes committed. */
  refresh(): void {
    this.env.resetReadTxn();
  }

  /** Writes a task record and its state index entry; must run inside a write transaction. */
  private putTask(rec: TaskRecord): void {
    this.tasks.put(rec.id, rec);
    const entry: TaskStateEntry = [rec.state, rec.retryAt ?? 0, rec.owner?.id ?? ''];
    this.states.put(rec.id, entry);
  }

  /** Every task's state from the compact index (no full records decoded). */
  *stateEntries(): Iterable<[string, TaskStateEntry]> {
    for (const { key, value } of this.states.getRange()) {
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

  /** Every task record with its key, checked, in id order. */
  *taskEntries(): Iterable<TaskRecord> {
    for (const { key, value } of this.tasks.getRange()) yield this.checked(key, value);
  }

  /** Builds the state index of a store written before it existed. */
  private async ensureStateIndex(): Promise<void> {
    const first = [...this.states.getKeys({ limit: 1 })];
    if (first.length > 0) return;
    const anyTask = [...this.tasks.getKeys({ limit: 1 })];
    if (anyTask.length === 0) return;
    await this.tasks.transaction(() => {
      for (const { value } of this.tasks.getRange()) this.states.put(value.id, [value.state, value.retryAt ?? 0, value.owner?.id ?? '']);
    });
  }

  // ---------------------------------------------------------------- meta

  getMeta(): RunMeta | undefined {
    return this.meta.get('run') as RunMeta | undefined;
  }

  async initMeta(name: string, specPath: string): Promise<RunMeta> {
    await this.ensureStateIndex();
    return this.meta.transaction(() => {
      const existing = this.meta.get('run') as RunMeta | undefined;
      if (existing) return existing;
      const meta: RunMeta = { name, specPath, createdAt: Date.now(), formatVersion: FORMAT_VERSION };
      this.meta.put('run', meta);
      return meta;
    });
  }

  async setPlanDigest(digest: string): Promise<void> {
    await this.meta.transaction(() => {
      const m = this.meta.get('run') as RunMeta;
      this.meta.put('run', { ...m, planDigest: digest });
    });
  }

  /** The stages' resolved options as last synced, so a dry run can name the keys that changed. */
  async setStageSnapshot(stages: StageSnapshot): Promise<void> {
    await this.meta.put('stages', stages);
  }

  getStageSnapshot(): StageSnapshot | undefined {
    return this.meta.get('stages') as StageSnapshot | undefined;
  }

  // ---------------------------------------------------------------- events

  /** Appends an event inside the current write transaction and returns it. */
  private appendEvent(e: Omit<StoredEvent, 'seq' | 'time'> & { time?: number }): StoredEvent {
    const seq = ((this.meta.get('eventSeq') as number | undefined) ?? 0) + 1;
    this.meta.put('eventSeq', seq);
    const ev: StoredEvent = { seq, time: e.time ?? Date.now(), ...e } as StoredEvent;
    this.events.put(seq, ev);
    return ev;
  }

  lastEventSeq(): number {
    return (this.meta.get('eventSeq') as number | undefined) ?? 0;
  }

  /** Events after `afterSeq`, oldest first. */
  *eventsAfter(afterSeq: number, limit = Infinity): Iterable<StoredEvent> {
    let n = 0;
    for (const { value } of this.events.getRange({ start: afterSeq + 1 })) {
      if (n++ >= limit) return;
      yield value;
    }
  }

  /** Events newest first (to read back the end of the feed). */
  *eventsNewestFirst(): Iterable<StoredEvent> {
    for (const { value } of this.events.getRange({ reverse: true })) yield value;
  }

  async recordEvent(type: string, data?: unknown, owner?: string): Promise<StoredEvent> {
    return this.meta.transaction(() => this.appendEvent({ type, data, owner }));
  }

  /** Keeps the newest `keep` events. */
  async trimEvents(keep: number): Promise<number> {
    const last = this.lastEventSeq();
    const floor = last - keep;
    if (floor <= 0) return 0;
    let removed = 0;
    await this.events.transaction(() => {
      for (const key of this.events.getKeys({ end: floor + 1 })) {
        this.events.remove(key);
        removed++;
      }
    });
    return removed;
  }

  // ---------------------------------------------------------------- owners

  async registerOwner(owner: OwnerRecord): Promise<void> {
    await this.owners.transaction(() => {
      this.owners.put(owner.id, owner);
      this.appendEvent({ type: 'runner:start', owner: owner.id, data: { pid: owner.pid, host: owner.host } });
    });
  }

  async heartbeat(ownerId: string, now = Date.now()): Promise<boolean> {
    return this.owners.transaction(() => {
      const o = this.owners.get(ownerId);
      if (!o) return false;
      this.owners.put(ownerId, { ...o, heartbeatAt: now });
      return true;
    });
  }

  async removeOwner(ownerId: string): Promise<void> {
    await this.owners.transaction(() => {
      if (this.owners.get(ownerId)) {
        this.owners.remove(ownerId);
        this.appendEvent({ type: 'runner:stop', owner: ownerId });
      }
    });
  }

  listOwners(): OwnerRecord[] {
    return [...this.owners.getRange()].map((e) => e.value);
  }

  // ---------------------------------------------------------------- tasks

  getTask(id: string): TaskRecord | undefined {
    const v = this.tasks.get(id);
    return v === undefined ? undefined : this.checked(id, v);
  }

  /** Every task record, in id order. */
  allTasks(): TaskRecord[] {
    return [...this.taskEntries()];
  }

  /** Task records whose id starts with `prefix`. */
  tasksWithPrefix(prefix: string): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const { key, value } of this.tasks.getRange({ start: prefix })) {
      if (!key.startsWith(prefix)) break;
      out.push(value);
    }
    return out;
  }

  counts(ids?: Iterable<string>): StateCounts {
    const c = emptyCounts();
    if (ids) {
      for (const id of ids) {
        const r = this.tasks.get(id);
        if (r) c[r.state]++;
      }
    } else {
      for (const { value } of this.tasks.getRange()) c[value.state]++;
    }
    return c;
  }

  /**
   * Inserts planned tasks that are new, and reopens completed tasks whose options or targets
   * changed, together with every completed task downstream of them.
   */
  async syncPlan(planned: PlannedTaskInput[], dependents: Map<string, string[]>): Promise<PlanSync> {
    const sync: PlanSync = { inserted: 0, rerun: [], invalidated: [] };
    const now = Date.now();
    const existing = new Map<string, TaskRecord>();
    for (const { key, value } of this.tasks.getRange()) existing.set(key, value);
    const reopen = new Map<string, string>();
    const writes: TaskRecord[] = [];
    for (const p of planned) {
      const rec = existing.get(p.id);
      if (!rec) {
        writes.push(newRecord(p, now));
        continue;
      }
      const sameFingerprint = rec.fingerprint === p.fingerprint;
      const sameTargets = rec.targets === p.targets;
      const sameNeeds = rec.needs.length === p.needs.length && rec.needs.every((n, i) => n === p.needs[i]);
      if (sameFingerprint && sameTargets && sameNeeds && rec.pluginVersion === p.pluginVersion) continue;
      if (rec.state === 'completed' && !sameFingerprint) reopen.set(p.id, 'its options changed');
      else if (rec.state === 'completed' && !sameTargets) reopen.set(p.id, 'a resume-safe target changed; it resumes from its last checkpoint');
      else if (rec.state !== 'completed' && rec.state !== 'running' && !sameFingerprint && rec.lastCheckpoint) sync.invalidated.push(p.id);
      if (rec.state !== 'running') {
        writes.push({ ...rec, fingerprint: p.fingerprint, targets: p.targets, needs: p.needs, pluginVersion: p.pluginVersion, updatedAt: now });
      }
    }
    // Downstream of anything reopened must rerun too.
    const queue = [...reopen.keys()];
    while (queue.length > 0) {
      const id = queue.pop()!;
      for (const d of dependents.get(id) ?? []) {
        if (reopen.has(d)) continue;
        const rec = existing.get(d);
        if (rec?.state === 'completed') {
          reopen.set(d, `upstream ${id} reruns`);
          queue.push(d);
        }
      }
    }
    const byId = new Map(writes.map((w) => [w.id, w]));
    for (const [id, reason] of reopen) {
      const base = byId.get(id) ?? existing.get(id)!;
      byId.set(id, {
        ...base,
        state: 'pending',
        result: undefined,
        error: undefined,
        retriesUsed: 0,
        notes: pushNote(base.notes, `reopened: ${reason}`),
        updatedAt: now,
      });
      sync.rerun.push({ id, reason });
    }
    const all = [...byId.values()];
    for (let i = 0; i < all.length; i += 5000) {
      const chunk = all.slice(i, i + 5000);
      await this.tasks.transaction(() => {
        for (const rec of chunk) {
          const cur = this.tasks.get(rec.id);
          // Another runner may have claimed it meanwhile; never touch a running task.
          if (cur && cur.state === 'running') continue;
          if (!cur) sync.inserted++;
          this.putTask(rec);
          if (reopen.has(rec.id)) this.appendEvent({ type: 'task:reopen', task: rec.id, state: 'pending', data: { reason: reopen.get(rec.id) } });
        }
      });
    }
    return sync;
  }

  /** Inserts a child task if it does not exist; returns the current record. */
  async ensureChild(p: PlannedTaskInput): Promise<TaskRecord> {
    return this.tasks.transaction(() => {
      const cur = this.tasks.get(p.id);
      if (cur) {
        if (cur.fingerprint !== p.fingerprint || cur.targets !== p.targets) {
          if (cur.state === 'running') return cur;
          const upd: TaskRecord = {
            ...cur,
            fingerprint: p.fingerprint,
            targets: p.targets,
            pluginVersion: p.pluginVersion,
            state: cur.state === 'completed' ? 'pending' : cur.state,
            notes: cur.state === 'completed' ? pushNote(cur.notes, 'reopened: options changed') : cur.notes,
            updatedAt: Date.now(),
          };
          this.putTask(upd);
          return upd;
        }
        if (cur.state === 'pending' && cur.retryAt !== undefined) {
          const upd: TaskRecord = { ...cur, retryAt: undefined, updatedAt: Date.now() };
          this.putTask(upd);
          return upd;
        }
        return cur;
      }
      const rec = newRecord(p, Date.now());
      this.putTask(rec);
      return rec;
    });
  }

  /**
   * Moves tasks from pending to running for `owner`, atomically. Returns the records claimed;
   * tasks that are no longer pending (another runner took them) or are backing off are skipped.
   */
  async claim(ids: string[], owner: OwnerRef, now = Date.now(), maxDelayMs = Infinity): Promise<TaskRecord[]> {
    this.checkFiles();
    return this.tasks.transaction(() => {
      // A runner taken for dead (its record removed by another runner) must not take new work.
      if (!this.owners.get(owner.id)) throw leaseLost(`runner ${owner.id} is no longer registered in the run (another runner took it for dead and removed it); it may not claim tasks`);
      const out: TaskRecord[] = [];
      for (const id of ids) {
        const rec = this.tasks.get(id);
        // A retry time further off than the longest backoff can only come from a wall clock
        // that jumped back since it was set: it counts as due, or the retry would wait for hours.
        if (!rec || rec.state !== 'pending' || (rec.retryAt !== undefined && rec.retryAt > now && rec.retryAt - now <= maxDelayMs)) continue;
        const next: TaskRecord = {
          ...rec,
          state: 'running',
          owner,
          attempts: rec.attempts + 1,
          retryAt: undefined,
          cancelRequested: undefined,
          startedAt: now,
          updatedAt: now,
          attemptStep: rec.progress?.step,
        };
        this.putTask(next);
        out.push(next);
      }
      return out;
    });
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
    const removedFiles: string[] = [];
    const record = await this.tasks.transaction(() => {
      const rec = this.tasks.get(id);
      if (!rec || rec.state !== 'running' || rec.owner?.id !== ownerId) return undefined;
      const now = Date.now();
      const next: TaskRecord = {
        ...rec,
        state: outcome.state,
        owner: undefined,
        cancelRequested: undefined,
        endedAt: now,
        updatedAt: now,
        runMs: rec.runMs + outcome.runMs,
        // The process outlived the attempt: the run of deaths is broken (a quarantine lasts until the task ends).
        suspect: outcome.state === 'pending' && rec.quarantine ? rec.suspect : undefined,
        quarantine: outcome.state === 'pending' ? rec.quarantine : undefined,
      };
      if (progress) next.progress = progress;
      if (outcome.state === 'completed') {
        next.result = outcome.result;
        next.error = undefined;
        if (next.progress?.total !== undefined) next.progress = { ...next.progress, step: next.progress.total, updatedAt: now };
        if (retention && rec.checkpointSeq > 0) removedFiles.push(...this.pruneTaskCheckpoints(id, retention.keepOnComplete));
      } else if (outcome.state === 'failed') {
        next.error = outcome.error;
        next.failures = rec.failures + 1;
        next.retriesUsed = (rec.retriesUsed ?? 0) + 1;
        next.notes = pushNote(rec.notes, outcome.note ?? `failed: ${outcome.error.message}`);
      } else if (outcome.state === 'pending') {
        next.retryAt = outcome.retryAt;
        if (outcome.error) next.error = outcome.error;
        if (outcome.countFailure) {
          next.failures = rec.failures + 1;
          next.retriesUsed = (rec.retriesUsed ?? 0) + 1;
        }
        next.notes = pushNote(rec.notes, outcome.note);
      } else {
        next.notes = pushNote(rec.notes, outcome.note);
      }
      this.putTask(next);
      this.appendEvent({ type: 'task:end', task: id, state: next.state, owner: ownerId, time: now });
      if (next.state !== 'pending') this.settleChildren(next, ownerId, now);
      return next;
    });
    return record ? { record, removedFiles } : undefined;
  }

  /**
   * A parent that ended no longer asks for its children: those still pending (e.g. the child of
   * a trial that was pruned or failed just before a crash) end as cancelled, as they would have
   * when the parent cancelled them itself.
   */
  private settleChildren(parent: TaskRecord, ownerId: string, now: number): void {
    for (const { key, value } of this.tasks.getRange({ start: `${parent.id}/` })) {
      if (!key.startsWith(`${parent.id}/`)) break;
      if (value.parent !== parent.id || value.state !== 'pending') continue;
      this.putTask({
        ...value,
        state: 'cancelled',
        retryAt: undefined,
        suspect: undefined,
        quarantine: undefined,
        updatedAt: now,
        notes: pushNote(value.notes, `cancelled: its parent ${parent.state} without needing it any more`),
      });
      this.appendEvent({ type: 'task:cancel', task: key, state: 'cancelled', owner: ownerId, time: now });
    }
  }

  /** Persists the latest progress of running tasks (one transaction for all). */
  async saveProgress(updates: Map<string, TaskProgress>, ownerId: string): Promise<void> {
    if (updates.size === 0) return;
    await this.tasks.transaction(() => {
      for (const [id, progress] of updates) {
        const rec = this.tasks.get(id);
        if (!rec || rec.state !== 'running' || rec.owner?.id !== ownerId) continue;
        this.putTask({ ...rec, progress, updatedAt: progress.updatedAt });
      }
    });
  }

  /**
   * Resets tasks left running by runners that are gone. `isStale` decides per owner. Each reset
   * task goes back to pending with the note "interrupted; resumed after restart"; its attempt
   * stays counted and its checkpoints are kept.
   */
  async resetStale(isStale: (owner: OwnerRef, record?: OwnerRecord) => boolean): Promise<TaskRecord[]> {
    const staleOwners = new Set<string>();
    const liveOwners = new Set<string>();
    const candidates: string[] = [];
    for (const { key, value } of this.states.getRange()) {
      if (value[0] !== 'running') continue;
      const oid = value[2];
      if (!staleOwners.has(oid) && !liveOwners.has(oid)) {
        const rec = this.tasks.get(key);
        if (!rec?.owner) continue;
        (isStale(rec.owner, this.owners.get(oid)) ? staleOwners : liveOwners).add(oid);
      }
      if (staleOwners.has(oid)) candidates.push(key);
    }
    if (candidates.length === 0 && staleOwners.size === 0) return [];
    return this.tasks.transaction(() => {
      const out: TaskRecord[] = [];
      const now = Date.now();
      const held = new Map<string, TaskRecord[]>();
      for (const id of candidates) {
        const rec = this.tasks.get(id);
        if (!rec || rec.state !== 'running' || !rec.owner || !staleOwners.has(rec.owner.id)) continue;
        held.set(rec.owner.id, [...(held.get(rec.owner.id) ?? []), rec]);
      }
      for (const [oid, recs] of held) {
        const verdicts = judgeDeath(recs.map((r) => this.heldTask(r)), this.deathCause(this.owners.get(oid)));
        for (const rec of recs) {
          const v = verdicts.get(rec.id) ?? {};
          const id = rec.id;
          let notes = pushNote(rec.notes, rec.cancelRequested ? 'cancelled; its runner was gone' : 'interrupted; resumed after restart');
          if (v.note) notes = pushNote(notes, v.note);
          const next: TaskRecord = {
            ...rec,
            state: rec.cancelRequested ? 'cancelled' : 'pending',
            owner: undefined,
            cancelRequested: undefined,
            suspect: v.suspect,
            quarantine: v.quarantine,
            endedAt: now,
            updatedAt: now,
            runMs: rec.runMs + Math.max(0, (rec.progress?.updatedAt ?? rec.startedAt ?? now) - (rec.startedAt ?? now)),
            notes,
          };
          this.putTask(next);
          this.appendEvent({ type: 'task:reset', task: id, state: next.state, owner: oid, time: now, ...(v.note ? { data: { quarantine: v.note } } : {}) });
          out.push(next);
        }
      }
      for (const oid of staleOwners) if (this.owners.get(oid)) this.owners.remove(oid);
      return out;
    });
  }

  /** A task held by a dead runner, as the crash rule sees it: did its attempt make progress? */
  private heldTask(rec: TaskRecord): HeldTask {
    const since = rec.startedAt ?? Infinity;
    let progressed = (rec.lastCheckpoint?.time ?? -Infinity) >= since;
    // A plugin that commits its own durable state (a paper trader's per-bar ledger) shows progress
    // as a step beyond where the attempt started; one that restarts from scratch does not.
    if (!progressed && typeof rec.progress?.step === 'number' && (rec.progress.updatedAt ?? -Infinity) >= since) {
      progressed = rec.progress.step > (rec.attemptStep ?? Infinity);
    }
    if (!progressed) {
      for (const { key, value } of this.tasks.getRange({ start: `${rec.id}/` })) {
        if (!key.startsWith(`${rec.id}/`)) break;
        if (value.parent === rec.id && value.state !== 'running' && (value.endedAt ?? -Infinity) >= since) {
          progressed = true;
          break;
        }
      }
    }
    return { id: rec.id, parent: rec.parent, progressed, suspect: rec.suspect, quarantine: rec.quarantine };
  }

  /** Deaths the store can explain: a reboot since the runner started, or an exit on purpose. */
  private deathCause(owner: OwnerRecord | undefined): DeathCause {
    if (owner?.exit === 'signal') return 'signal';
    const boot = bootId();
    // Boot ids only compare on the same host (a runner on another host has its own).
    if (boot && owner?.host === HOST && owner.procStart && !owner.procStart.startsWith(`${boot}:`)) return 'reboot';
    return 'unexplained';
  }

  /** Marks a runner as exiting on purpose with tasks running (synchronous: called just before exit). */
  markExiting(ownerId: string): void {
    const o = this.owners.get(ownerId);
    if (o) this.owners.putSync(ownerId, { ...o, exit: 'signal' });
  }

  /**
   * Cancels tasks: pending ones at once, running ones by flagging them for their owner (or at
   * once when the owner is gone). Completed, failed and cancelled tasks are returned untouched.
   */
  async cancel(ids: string[], ownerGone: (owner: OwnerRef) => boolean): Promise<{ cancelled: string[]; requested: string[]; skipped: TaskRecord[] }> {
    return this.tasks.transaction(() => {
      const res = { cancelled: [] as string[], requested: [] as string[], skipped: [] as TaskRecord[] };
      const now = Date.now();
      for (const id of ids) {
        const rec = this.tasks.get(id);
        if (!rec) continue;
        if (rec.state === 'pending' || (rec.state === 'running' && rec.owner && ownerGone(rec.owner))) {
          this.putTask({ ...rec, state: 'cancelled', owner: undefined, retryAt: undefined, notes: pushNote(rec.notes, 'cancelled by `runner cancel`'), updatedAt: now, endedAt: now });
          this.appendEvent({ type: 'task:cancel', task: id, state: 'cancelled', owner: 'cli' });
          res.cancelled.push(id);
        } else if (rec.state === 'running') {
          if (!rec.cancelRequested) {
            this.putTask({ ...rec, cancelRequested: true, updatedAt: now });
            this.appendEvent({ type: 'task:cancel-request', task: id, state: 'running', owner: 'cli' });
          }
          res.requested.push(id);
        } else {
          res.skipped.push(rec);
        }
      }
      return res;
    });
  }

  /** Moves cancelled or failed tasks back to pending, atomically; others are returned untouched. */
  async resume(ids: string[]): Promise<{ resumed: TaskRecord[]; skipped: TaskRecord[] }> {
    return this.tasks.transaction(() => {
      const res = { resumed: [] as TaskRecord[], skipped: [] as TaskRecord[] };
      const now = Date.now();
      for (const id of ids) {
        const rec = this.tasks.get(id);
        if (!rec) continue;
        if (rec.state !== 'cancelled' && rec.state !== 'failed') {
          res.skipped.push(rec);
          continue;
        }
        const next: TaskRecord = { ...rec, state: 'pending', retriesUsed: 0, retryAt: undefined, notes: pushNote(rec.notes, `resumed by \`runner resume\` (was ${rec.state})`), updatedAt: now };
        this.putTask(next);
        this.appendEvent({ type: 'task:resume', task: id, state: 'pending', owner: 'cli' });
        res.resumed.push(next);
      }
      return res;
    });
  }

  /**
   * Clears progress of the given tasks: back to pending, no result, no checkpoints. One
   * transaction: a kill leaves all of them reset or none. `refuse` runs inside it, under the
   * write lock, and may throw to abort (e.g. a runner has started meanwhile).
   */
  async reset(ids: string[], refuse?: (owners: OwnerRecord[]) => void): Promise<{ count: number; files: string[] }> {
    return this.tasks.transaction(() => {
      refuse?.([...this.owners.getRange()].map((e) => e.value));
      const files: string[] = [];
      let count = 0;
      const now = Date.now();
      for (const id of ids) {
        const rec = this.tasks.get(id);
        if (!rec) continue;
        files.push(...this.pruneTaskCheckpoints(id, 0));
        const base = taskRecordProblem(id, rec) ? ({ id, stage: id.split('/')[0] ?? id, plugin: '', cell: {}, cycle: 1, needs: [], fingerprint: '', targets: '', pluginVersion: '', checkpointSeq: 0, createdAt: now } as unknown as TaskRecord) : rec;
        this.putTask({
          ...base,
          state: 'pending',
          attempts: 0,
          failures: 0,
          retriesUsed: 0,
          owner: undefined,
          retryAt: undefined,
          cancelRequested: undefined,
          progress: undefined,
          result: undefined,
          error: undefined,
          lastCheckpoint: undefined,
          runMs: 0,
          startedAt: undefined,
          endedAt: undefined,
          notes: pushNote([], 'reset by `runner reset`'),
          updatedAt: now,
        });
        count++;
      }
      this.appendEvent({ type: 'run:reset', owner: 'cli', data: { tasks: count } });
      return { count, files };
    });
  }

  /** Deletes child tasks of the given parents (used by reset). */
  childIds(parentIds: Set<string>): string[] {
    const out: string[] = [];
    for (const { key, value } of this.tasks.getRange()) if ((value as Partial<TaskRecord> | undefined)?.parent && parentIds.has(value.parent!)) out.push(key);
    return out;
  }

  // ---------------------------------------------------------------- checkpoints

  /** Hands out the next checkpoint sequence number for a task. */
  async nextCheckpointSeq(taskId: string): Promise<number> {
    return this.tasks.transaction(() => {
      const rec = this.tasks.get(taskId);
      if (!rec) throw new Error(`unknown task ${taskId}`);
      const seq = rec.checkpointSeq + 1;
      this.putTask({ ...rec, checkpointSeq: seq });
      return seq;
    });
  }

  /**
   * Commits a checkpoint record and prunes older ones beyond `keep`. Resolves once committed,
   * with the payload files that are no longer referenced (the caller deletes them).
   */
  async saveCheckpoint(rec: CheckpointRecord, keep: number, ownerId?: string): Promise<{ removedFiles: string[]; stale: boolean }> {
    return this.checkpoints.transaction(() => {
      const task = this.tasks.get(rec.taskId);
      if (!task) throw new Error(`unknown task ${rec.taskId}`);
      if (ownerId !== undefined && (task.state !== 'running' || task.owner?.id !== ownerId)) {
        return { removedFiles: rec.file ? [rec.file] : [], stale: true };
      }
      this.checkpoints.put([rec.taskId, rec.seq], rec);
      this.putTask({
        ...task,
        checkpointSeq: Math.max(task.checkpointSeq, rec.seq),
        lastCheckpoint: { seq: rec.seq, type: rec.type, step: rec.step, total: rec.total, time: rec.time },
        updatedAt: rec.time,
      });
      const removedFiles = this.pruneTaskCheckpoints(rec.taskId, keep);
      this.appendEvent({ type: 'task:checkpoint', task: rec.taskId, data: { seq: rec.seq, type: rec.type, step: rec.step } });
      return { removedFiles, stale: false };
    });
  }

  /** Checkpoint records of a task, newest first (payloads included). */
  listCheckpoints(taskId: string): CheckpointRecord[] {
    return [...this.checkpoints.getRange({ start: [taskId, Number.MAX_SAFE_INTEGER], end: [taskId, 0], reverse: true })].map((e) => e.value);
  }

  /** Every checkpoint record, in key order. */
  *allCheckpoints(): Iterable<CheckpointRecord> {
    for (const { value } of this.checkpoints.getRange()) yield value;
  }

  /** Must run inside a write transaction. Returns files to delete. */
  private pruneTaskCheckpoints(taskId: string, keep: number): string[] {
    const files: string[] = [];
    let i = 0;
    let newest: CheckpointRecord | undefined;
    for (const { key, value } of this.checkpoints.getRange({ start: [taskId, Number.MAX_SAFE_INTEGER], end: [taskId, 0], reverse: true })) {
      if (i === 0) newest = value;
      if (i++ < keep) continue;
      this.checkpoints.remove(key);
      if (value.file) files.push(value.file);
    }
    if (keep === 0 && newest) {
      const t = this.tasks.get(taskId);
      if (t?.lastCheckpoint) this.putTask({ ...t, lastCheckpoint: undefined });
    }
    return files;
  }

  /** Deletes checkpoints by key; refreshes each task's lastCheckpoint. Returns files to delete. */
  async deleteCheckpoints(keys: [string, number][]): Promise<string[]> {
    const files: string[] = [];
    await this.checkpoints.transaction(() => {
      const touched = new Set<string>();
      for (const key of keys) {
        const rec = this.checkpoints.get(key);
        if (!rec) continue;
        this.checkpoints.remove(key);
        if (rec.file) files.push(rec.file);
        touched.add(key[0]);
      }
      for (const taskId of touched) {
        const t = this.tasks.get(taskId);
        if (!t) continue;
        const newest = [...this.checkpoints.getRange({ start: [taskId, Number.MAX_SAFE_INTEGER], end: [taskId, 0], reverse: true, limit: 1 })][0]?.value;
        this.putTask({
          ...t,
          lastCheckpoint: newest ? { seq: newest.seq, type: newest.type, step: newest.step, total: newest.total, time: newest.time } : undefined,
        });
      }
    });
    return files;
  }

  /**
   * Writes completed task records taken from other stores (`runner gather` imports the shards'
   * results). A record already here, completed with the same fingerprint, targets and end time, is
   * left alone; for each one that changed, completed tasks downstream reopen.
   */
  async adoptTasks(records: TaskRecord[], dependents: Map<string, string[]>, note: string): Promise<{ adopted: string[]; reopened: string[] }> {
    const adopted: string[] = [];
    const reopened: string[] = [];
    const now = Date.now();
    await this.tasks.transaction(() => {
      for (const rec of records) {
        const cur = this.tasks.get(rec.id);
        if (cur?.state === 'running') continue;
        if (cur?.state === 'completed' && cur.fingerprint === rec.fingerprint && cur.targets === rec.targets && cur.endedAt === rec.endedAt) continue;
        const { owner: _owner, ...rest } = rec;
        this.putTask({ ...rest, notes: pushNote(rec.notes, note), updatedAt: now });
        this.appendEvent({ type: 'task:adopt', task: rec.id, state: rec.state });
        adopted.push(rec.id);
      }
      const adoptedSet = new Set(adopted);
      const queue = [...adopted];
      const seen = new Set<string>();
      while (queue.length > 0) {
        for (const d of dependents.get(queue.pop()!) ?? []) {
          if (seen.has(d) || adoptedSet.has(d)) continue;
          seen.add(d);
          const cur = this.tasks.get(d);
          if (cur?.state !== 'completed') continue;
          this.putTask({ ...cur, state: 'pending', result: undefined, error: undefined, retriesUsed: 0, notes: pushNote(cur.notes, 'reopened: a shard\'s result it needs changed'), updatedAt: now });
          this.appendEvent({ type: 'task:reopen', task: d, state: 'pending', data: { reason: 'gathered input changed' } });
          reopened.push(d);
          queue.push(d);
        }
      }
    });
    return { adopted, reopened };
  }

  /** Snapshot copy of the store (safe while others write). */
  async backup(targetDir: string): Promise<string> {
    mkdirSync(targetDir, { recursive: true });
    const target = join(targetDir, STORE_FILE);
    rmSync(target, { force: true });
    await this.env.backup(target, true);
    return target;
  }
}

/** Is the runner that wrote this owner record alive? On this host the pid decides, elsewhere the lease. */
/** Per stage: plugin, its resolved options and the fingerprints they gave. */
export type StageSnapshot = Record<string, { plugin: string; options: unknown; fingerprint: string; targets: string }>;

export function ownerAlive(rec: OwnerRecord, now = Date.now()): boolean {
  if (rec.host === HOST) return pidAlive(rec.pid, rec.procStart);
  return now - rec.heartbeatAt <= rec.leaseMs;
}

export function pushNote(notes: string[], note: string): string[] {
  const out = [...notes, `${new Date().toISOString()} ${note}`];
  return out.length > MAX_NOTES ? out.slice(out.length - MAX_NOTES) : out;
}

function newRecord(p: PlannedTaskInput, now: number): TaskRecord {
  const rec: TaskRecord = {
    id: p.id,
    stage: p.stage,
    plugin: p.plugin,
    cell: p.cell,
    cycle: p.cycle,
    needs: p.needs,
    state: 'pending',
    attempts: 0,
    failures: 0,
    notes: [],
    fingerprint: p.fingerprint,
    targets: p.targets,
    pluginVersion: p.pluginVersion,
    checkpointSeq: 0,
    createdAt: now,
    updatedAt: now,
    runMs: 0,
  };
  if (p.parent) rec.parent = p.parent;
  return rec;
}

export type { TaskState };
