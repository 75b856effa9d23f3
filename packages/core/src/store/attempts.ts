/** A task's attempt: claimed by a runner, its progress saved, ended by its owner only. */
import { leaseLost } from '../errors.js';
import { putTask, pushNote, type StoreDbs } from './db.js';
import { appendEvent } from './feed.js';
import { pruneTaskCheckpoints } from './checkpoints.js';
import type { OwnerRef, Retention, TaskOutcome, TaskProgress, TaskRecord } from './types.js';

/**
 * Moves tasks from pending to running for `owner`, atomically. Returns the records claimed;
 * tasks that are no longer pending (another runner took them) or are backing off are skipped.
 */
export async function claim(db: StoreDbs, ids: string[], owner: OwnerRef, now = Date.now(), maxDelayMs = Infinity): Promise<TaskRecord[]> {
  return db.tasks.transaction(() => {
    // A runner taken for dead (its record removed by another runner) must not take new work.
    if (!db.owners.get(owner.id)) throw leaseLost(`runner ${owner.id} is no longer registered in the run (another runner took it for dead and removed it); it may not claim tasks`);
    const out: TaskRecord[] = [];
    for (const id of ids) {
      const rec = db.tasks.get(id);
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
      putTask(db, next);
      out.push(next);
    }
    return out;
  });
}

/**
 * Ends a running attempt. Only the owner may do this: if the task was meanwhile reset as
 * stale and taken by another runner, nothing is written and undefined is returned.
 */
export async function finish(
  db: StoreDbs,
  id: string,
  ownerId: string,
  outcome: TaskOutcome,
  retention?: Retention,
  progress?: TaskProgress,
): Promise<{ record: TaskRecord; removedFiles: string[] } | undefined> {
  const removedFiles: string[] = [];
  const record = await db.tasks.transaction(() => {
    const rec = db.tasks.get(id);
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
      if (retention && rec.checkpointSeq > 0) removedFiles.push(...pruneTaskCheckpoints(db, id, retention.keepOnComplete));
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
    putTask(db, next);
    appendEvent(db, { type: 'task:end', task: id, state: next.state, owner: ownerId, time: now });
    if (next.state !== 'pending') settleChildren(db, next, ownerId, now);
    return next;
  });
  return record ? { record, removedFiles } : undefined;
}

/**
 * A parent that ended no longer asks for its children: those still pending (e.g. the child of
 * a trial that was pruned or failed just before a crash) end as cancelled, as they would have
 * when the parent cancelled them itself.
 */
function settleChildren(db: StoreDbs, parent: TaskRecord, ownerId: string, now: number): void {
  for (const { key, value } of db.tasks.getRange({ start: `${parent.id}/` })) {
    if (!key.startsWith(`${parent.id}/`)) break;
    if (value.parent !== parent.id || value.state !== 'pending') continue;
    putTask(db, {
      ...value,
      state: 'cancelled',
      retryAt: undefined,
      suspect: undefined,
      quarantine: undefined,
      updatedAt: now,
      notes: pushNote(value.notes, `cancelled: its parent ${parent.state} without needing it any more`),
    });
    appendEvent(db, { type: 'task:cancel', task: key, state: 'cancelled', owner: ownerId, time: now });
  }
}

/** Persists the latest progress of running tasks (one transaction for all). */
export async function saveProgress(db: StoreDbs, updates: Map<string, TaskProgress>, ownerId: string): Promise<void> {
  if (updates.size === 0) return;
  await db.tasks.transaction(() => {
    for (const [id, progress] of updates) {
      const rec = db.tasks.get(id);
      if (!rec || rec.state !== 'running' || rec.owner?.id !== ownerId) continue;
      putTask(db, { ...rec, progress, updatedAt: progress.updatedAt });
    }
  });
}
