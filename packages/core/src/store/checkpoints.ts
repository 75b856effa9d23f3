/** Checkpoint records: sequence numbers, owner-only commits with retention, pruning. */
import { putTask, type StoreDbs } from './db.js';
import { appendEvent } from './feed.js';
import type { CheckpointRecord } from './types.js';

/** Hands out the next checkpoint sequence number for a task. */
export async function nextCheckpointSeq(db: StoreDbs, taskId: string): Promise<number> {
  return db.tasks.transaction(() => {
    const rec = db.tasks.get(taskId);
    if (!rec) throw new Error(`unknown task ${taskId}`);
    const seq = rec.checkpointSeq + 1;
    putTask(db, { ...rec, checkpointSeq: seq });
    return seq;
  });
}

/**
 * Commits a checkpoint record and prunes older ones beyond `keep`. Resolves once committed,
 * with the payload files that are no longer referenced (the caller deletes them).
 */
export async function saveCheckpoint(db: StoreDbs, rec: CheckpointRecord, keep: number, ownerId?: string): Promise<{ removedFiles: string[]; stale: boolean }> {
  return db.checkpoints.transaction(() => {
    const task = db.tasks.get(rec.taskId);
    if (!task) throw new Error(`unknown task ${rec.taskId}`);
    if (ownerId !== undefined && (task.state !== 'running' || task.owner?.id !== ownerId)) {
      return { removedFiles: rec.file ? [rec.file] : [], stale: true };
    }
    db.checkpoints.put([rec.taskId, rec.seq], rec);
    putTask(db, {
      ...task,
      checkpointSeq: Math.max(task.checkpointSeq, rec.seq),
      lastCheckpoint: { seq: rec.seq, type: rec.type, step: rec.step, total: rec.total, time: rec.time },
      updatedAt: rec.time,
    });
    const removedFiles = pruneTaskCheckpoints(db, rec.taskId, keep);
    appendEvent(db, { type: 'task:checkpoint', task: rec.taskId, data: { seq: rec.seq, type: rec.type, step: rec.step } });
    return { removedFiles, stale: false };
  });
}

/** Checkpoint records of a task, newest first (payloads included). */
export function listCheckpoints(db: StoreDbs, taskId: string): CheckpointRecord[] {
  return [...db.checkpoints.getRange({ start: [taskId, Number.MAX_SAFE_INTEGER], end: [taskId, 0], reverse: true })].map((e) => e.value);
}

/** The key of every checkpoint record, `[task id, seq]`, in order (no payload decoded). */
export function* checkpointKeys(db: StoreDbs): Iterable<[string, number]> {
  yield* db.checkpoints.getKeys();
}

/** Every checkpoint record, in key order. */
export function* allCheckpoints(db: StoreDbs): Iterable<CheckpointRecord> {
  for (const { value } of db.checkpoints.getRange()) yield value;
}

/** Must run inside a write transaction. Returns files to delete. */
export function pruneTaskCheckpoints(db: StoreDbs, taskId: string, keep: number): string[] {
  const files: string[] = [];
  let i = 0;
  let newest: CheckpointRecord | undefined;
  for (const { key, value } of db.checkpoints.getRange({ start: [taskId, Number.MAX_SAFE_INTEGER], end: [taskId, 0], reverse: true })) {
    if (i === 0) newest = value;
    if (i++ < keep) continue;
    db.checkpoints.remove(key);
    if (value.file) files.push(value.file);
  }
  if (keep === 0 && newest) {
    const t = db.tasks.get(taskId);
    if (t?.lastCheckpoint) putTask(db, { ...t, lastCheckpoint: undefined });
  }
  return files;
}

/** Deletes checkpoints by key; refreshes each task's lastCheckpoint. Returns files to delete. */
export async function deleteCheckpoints(db: StoreDbs, keys: [string, number][]): Promise<string[]> {
  const files: string[] = [];
  await db.checkpoints.transaction(() => {
    const touched = new Set<string>();
    for (const key of keys) {
      const rec = db.checkpoints.get(key);
      if (!rec) continue;
      db.checkpoints.remove(key);
      if (rec.file) files.push(rec.file);
      touched.add(key[0]);
    }
    for (const taskId of touched) {
      const t = db.tasks.get(taskId);
      if (!t) continue;
      const newest = [...db.checkpoints.getRange({ start: [taskId, Number.MAX_SAFE_INTEGER], end: [taskId, 0], reverse: true, limit: 1 })][0]?.value;
      putTask(db, {
        ...t,
        lastCheckpoint: newest ? { seq: newest.seq, type: newest.type, step: newest.step, total: newest.total, time: newest.time } : undefined,
      });
    }
  });
  return files;
}
