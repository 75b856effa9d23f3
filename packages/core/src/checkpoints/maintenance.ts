import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ARTIFACTS_DIR, CHECKPOINTS_SUBDIR } from '../util/run-paths.js';
import type { RunStore } from '../store/lmdb-store.js';
import type { CheckpointRecord } from '../store/types.js';

/**
 * Checkpoint housekeeping shared by `runner checkpoints` and `runner serve`'s API: statistics,
 * orphaned files, pruning. Both callers decide which records are in scope (the CLI a spec's
 * tasks, the server a whole run) and how to present the answer.
 */

export interface OrphanFile {
  path: string;
  size: number;
}

/** Checkpoint files no record points at, and temporary files left by interrupted writes. */
export function findOrphans(runDir: string, store: RunStore, minAgeMs = 0): OrphanFile[] {
  const referenced = new Set<string>();
  for (const r of store.allCheckpoints()) if (r.file) referenced.add(r.file);
  const out: OrphanFile[] = [];
  const now = Date.now();
  const walk = (dir: string, inCkpt: boolean) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, inCkpt || e.name === CHECKPOINTS_SUBDIR);
      else if (e.isFile()) {
        const isTmp = e.name.endsWith('.tmp') && e.name.startsWith('.');
        if (!isTmp && !(inCkpt && !referenced.has(relative(runDir, p)))) continue;
        const st = statSync(p);
        if (now - st.mtimeMs < minAgeMs) continue;
        out.push({ path: p, size: st.size });
      }
    }
  };
  walk(join(runDir, ARTIFACTS_DIR), false);
  return out;
}

export interface CheckpointStats {
  total: number;
  tasks: number;
  totalBytes: number;
  inStoreBytes: number;
  fileBytes: number;
  byType: Record<string, number>;
  oldest: string | null;
  newest: string | null;
  orphanFiles: number;
  orphanBytes: number;
}

export function checkpointStats(recs: readonly CheckpointRecord[], orphans: readonly OrphanFile[]): CheckpointStats {
  const byType: Record<string, number> = {};
  for (const r of recs) byType[r.type] = (byType[r.type] ?? 0) + 1;
  const bytes = (xs: readonly { size: number }[]) => xs.reduce((a, r) => a + r.size, 0);
  return {
    total: recs.length,
    tasks: new Set(recs.map((r) => r.taskId)).size,
    totalBytes: bytes(recs),
    inStoreBytes: bytes(recs.filter((r) => !r.file)),
    fileBytes: bytes(recs.filter((r) => r.file)),
    byType,
    oldest: recs.length ? new Date(Math.min(...recs.map((r) => r.time))).toISOString() : null,
    newest: recs.length ? new Date(Math.max(...recs.map((r) => r.time))).toISOString() : null,
    orphanFiles: orphans.length,
    orphanBytes: bytes(orphans),
  };
}

export interface PruneOptions {
  olderThanMs?: number;
  keep?: number;
  /** Also prune the newest checkpoint of an unfinished task (it then starts fresh). */
  all?: boolean;
  dryRun?: boolean;
}

export interface PruneSummary {
  checkpoints: number;
  bytes: number;
  orphanFiles: number;
  orphanBytes: number;
  dryRun: boolean;
}

/**
 * Removes checkpoints older than `olderThanMs` or beyond the newest `keep` of each task, and
 * orphaned files (only those older than a minute while a runner is live, so a file being written
 * is never taken). The newest checkpoint of an unfinished task is what it resumes from: kept
 * unless `all`.
 */
export async function pruneCheckpoints(store: RunStore, runDir: string, recs: Iterable<CheckpointRecord>, opts: PruneOptions & { runnersLive: boolean }): Promise<PruneSummary> {
  const now = Date.now();
  const byTask = new Map<string, CheckpointRecord[]>();
  for (const r of recs) {
    const l = byTask.get(r.taskId);
    if (l) l.push(r);
    else byTask.set(r.taskId, [r]);
  }
  const doomed: CheckpointRecord[] = [];
  for (const [taskId, list] of byTask) {
    list.sort((a, b) => b.seq - a.seq);
    const unfinished = store.getTask(taskId)?.state !== 'completed';
    list.forEach((r, i) => {
      if (i === 0 && unfinished && !opts.all) return;
      if ((opts.olderThanMs !== undefined && now - r.time > opts.olderThanMs) || (opts.keep !== undefined && i >= opts.keep)) doomed.push(r);
    });
  }
  const orphans = findOrphans(runDir, store, opts.runnersLive ? 60_000 : 0);
  if (!opts.dryRun) {
    const files = await store.deleteCheckpoints(doomed.map((r) => [r.taskId, r.seq]));
    for (const f of files) rmSync(join(runDir, f), { force: true });
    for (const o of orphans) rmSync(o.path, { force: true });
  }
  return { checkpoints: doomed.length, bytes: doomed.reduce((a, r) => a + r.size, 0), orphanFiles: orphans.length, orphanBytes: orphans.reduce((a, o) => a + o.size, 0), dryRun: !!opts.dryRun };
}

/** Deletes every checkpoint of the given tasks (record and file); returns how many. */
export async function deleteTaskCheckpoints(store: RunStore, runDir: string, ids: readonly string[]): Promise<number> {
  const keys = ids.flatMap((id) => store.listCheckpoints(id).map((r) => [r.taskId, r.seq] as [string, number]));
  const files = await store.deleteCheckpoints(keys);
  for (const f of files) rmSync(join(runDir, f), { force: true });
  return keys.length;
}
