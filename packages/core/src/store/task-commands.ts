/** What `runner cancel`, `resume` and `reset` change, each in one transaction. */
import { putTask, pushNote, type StoreDbs } from './db.js';
import { appendEvent } from './feed.js';
import { pruneTaskCheckpoints } from './checkpoints.js';
import { taskRecordProblem } from './integrity.js';
import type { OwnerRecord, OwnerRef, TaskRecord } from './types.js';

/**
 * Cancels tasks: pending ones at once, running ones by flagging them for their owner (or at
 * once when the owner is gone). Completed, failed and cancelled tasks are returned untouched.
 */
export async function cancel(db: StoreDbs, ids: string[], ownerGone: (owner: OwnerRef) => boolean): Promise<{ cancelled: string[]; requested: string[]; skipped: TaskRecord[] }> {
  return db.tasks.transaction(() => {
    const res = { cancelled: [] as string[], requested: [] as string[], skipped: [] as TaskRecord[] };
    const now = Date.now();
    for (const id of ids) {
      const rec = db.tasks.get(id);
      if (!rec) continue;
      if (rec.state === 'pending' || (rec.state === 'running' && rec.owner && ownerGone(rec.owner))) {
        putTask(db, { ...rec, state: 'cancelled', owner: undefined, retryAt: undefined, notes: pushNote(rec.notes, 'cancelled by `runner cancel`'), updatedAt: now, endedAt: now });
        appendEvent(db, { type: 'task:cancel', task: id, state: 'cancelled', owner: 'cli' });
        res.cancelled.push(id);
      } else if (rec.state === 'running') {
        if (!rec.cancelRequested) {
          putTask(db, { ...rec, cancelRequested: true, updatedAt: now });
          appendEvent(db, { type: 'task:cancel-request', task: id, state: 'running', owner: 'cli' });
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
export async function resume(db: StoreDbs, ids: string[]): Promise<{ resumed: TaskRecord[]; skipped: TaskRecord[] }> {
  return db.tasks.transaction(() => {
    const res = { resumed: [] as TaskRecord[], skipped: [] as TaskRecord[] };
    const now = Date.now();
    for (const id of ids) {
      const rec = db.tasks.get(id);
      if (!rec) continue;
      if (rec.state !== 'cancelled' && rec.state !== 'failed') {
        res.skipped.push(rec);
        continue;
      }
      const next: TaskRecord = { ...rec, state: 'pending', retriesUsed: 0, retryAt: undefined, notes: pushNote(rec.notes, `resumed by \`runner resume\` (was ${rec.state})`), updatedAt: now };
      putTask(db, next);
      appendEvent(db, { type: 'task:resume', task: id, state: 'pending', owner: 'cli' });
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
export async function reset(db: StoreDbs, ids: string[], refuse?: (owners: OwnerRecord[]) => void): Promise<{ count: number; files: string[] }> {
  return db.tasks.transaction(() => {
    refuse?.([...db.owners.getRange()].map((e) => e.value));
    const files: string[] = [];
    let count = 0;
    const now = Date.now();
    for (const id of ids) {
      const rec = db.tasks.get(id);
      if (!rec) continue;
      files.push(...pruneTaskCheckpoints(db, id, 0));
      const base = taskRecordProblem(id, rec) ? ({ id, stage: id.split('/')[0] ?? id, plugin: '', cell: {}, cycle: 1, needs: [], fingerprint: '', targets: '', pluginVersion: '', checkpointSeq: 0, createdAt: now } as unknown as TaskRecord) : rec;
      putTask(db, {
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
    appendEvent(db, { type: 'run:reset', owner: 'cli', data: { tasks: count } });
    return { count, files };
  });
}

/** Deletes child tasks of the given parents (used by reset). */
export function childIds(db: StoreDbs, parentIds: Set<string>): string[] {
  const out: string[] = [];
  for (const { key, value } of db.tasks.getRange()) if ((value as Partial<TaskRecord> | undefined)?.parent && parentIds.has(value.parent!)) out.push(key);
  return out;
}
