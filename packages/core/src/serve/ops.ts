import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointStats, deleteTaskCheckpoints, findOrphans, pruneCheckpoints } from '../checkpoints/maintenance.js';
import { taskJson } from '../cli/commands/status.js';
import { progressText } from '../cli/progress-text.js';
import { EVENTS_FILE } from '../run/event-log.js';
import { ownerAlive, type RunStore } from '../store/lmdb-store.js';
import { emptyCounts, type CheckpointRecord, type TaskRecord, type TaskState } from '../store/types.js';
import { naturalCompare } from '../report/headline.js';

/** An operation refused: the HTTP status and a message that says what to do. */
export class OpError extends Error {
  constructor(
    readonly status: 404 | 409 | 400,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Child task ids extend their parent's id, which ends with its cycle: `hpo/cycle=1/trial=3`. */
const CHILD_ID = /\/cycle=\d+\/./;

export function liveOwnerIds(store: RunStore): Set<string> {
  return new Set(store.listOwners().filter((o) => ownerAlive(o)).map((o) => o.id));
}

export function runSummary(name: string, store: RunStore) {
  const counts = emptyCounts();
  const stages: Record<string, Record<TaskState | 'total', number>> = {};
  let children = 0;
  // From the compact state index and the ids alone: no task record is decoded.
  for (const [id, [state]] of store.stateEntries()) {
    if (CHILD_ID.test(id)) {
      children++;
      continue;
    }
    counts[state]++;
    const stage = id.slice(0, id.indexOf('/'));
    const s = (stages[stage] ??= { total: 0, ...emptyCounts() });
    s.total++;
    s[state]++;
  }
  const meta = store.getMeta();
  const live = store.listOwners().filter((o) => ownerAlive(o));
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    name,
    title: meta?.name ?? name,
    spec: meta?.specPath ?? null,
    createdAt: meta ? new Date(meta.createdAt).toISOString() : null,
    tasks: { total, ...counts },
    children,
    stages,
    runners: live.map((o) => ({ id: o.id, pid: o.pid, host: o.host, threads: o.threads ?? null, startedAt: new Date(o.startedAt).toISOString(), heartbeatAt: new Date(o.heartbeatAt).toISOString() })),
    interrupted: live.length === 0 && counts.running > 0,
  };
}

export interface TaskQuery {
  state?: TaskState[];
  stage?: string[];
  children?: boolean;
  limit?: number;
  offset?: number;
}

/**
 * Tasks filtered by state and stage, in natural id order. Filters and sorts on the compact state
 * index and the ids; only the records of the page returned are decoded.
 */
export function listTasks(store: RunStore, q: TaskQuery) {
  const states = q.state ? new Set(q.state) : undefined;
  const stages = q.stage ? new Set(q.stage) : undefined;
  const ids: string[] = [];
  for (const [id, [state]] of store.stateEntries()) {
    if (states && !states.has(state)) continue;
    if (stages && !stages.has(id.slice(0, id.indexOf('/')))) continue;
    if (!q.children && CHILD_ID.test(id)) continue;
    ids.push(id);
  }
  ids.sort(naturalCompare);
  const offset = q.offset ?? 0;
  const tasks = [];
  for (const id of ids.slice(offset, offset + (q.limit ?? 1000))) {
    const t = store.getTask(id);
    if (t) tasks.push({ ...taskJson(t), progressText: progressText(t.progress) || null });
  }
  return { total: ids.length, offset, tasks };
}

function checkpointJson(r: CheckpointRecord) {
  return { seq: r.seq, type: r.type, step: r.step, total: r.total ?? null, time: new Date(r.time).toISOString(), size: r.size, file: r.file ?? null, checksum: r.checksum, metrics: r.metrics ?? null };
}

export function taskDetail(store: RunStore, runDir: string, id: string, logLines = 50) {
  const t = store.getTask(id);
  if (!t) throw new OpError(404, `no task ${id}`);
  return {
    task: { ...taskJson(t), progressText: progressText(t.progress) || null },
    checkpoints: store.listCheckpoints(id).map(checkpointJson),
    log: logTail(runDir, id, logLines),
  };
}

/** The last `n` log lines of a task from events.jsonl, reading only the file's tail. */
export function logTail(runDir: string, id: string, n: number): Array<{ time: string; level: string; message: string }> {
  const file = join(runDir, EVENTS_FILE);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = statSync(file).size;
    const want = Math.min(size, 4 * 1024 * 1024);
    const buf = Buffer.alloc(want);
    readSync(fd, buf, 0, want, size - want);
    const lines = buf.toString('utf8').split('\n');
    if (want < size) lines.shift();
    const out: Array<{ time: string; level: string; message: string }> = [];
    for (let i = lines.length - 1; i >= 0 && out.length < n; i--) {
      const l = lines[i]!;
      if (!l.includes('"task:log"') || !l.includes(JSON.stringify(id).slice(1, -1))) continue;
      try {
        const e = JSON.parse(l) as { time: string; type: string; id: string; level: string; message: string };
        if (e.type === 'task:log' && e.id === id) out.push({ time: e.time, level: e.level, message: e.message });
      } catch {
        // a line being written
      }
    }
    return out.reverse();
  } finally {
    closeSync(fd);
  }
}

export async function cancelTask(store: RunStore, id: string) {
  const t = store.getTask(id);
  if (!t) throw new OpError(404, `no task ${id}`);
  if (t.state !== 'pending' && t.state !== 'running') {
    throw new OpError(409, `${id} is ${t.state}; only pending or running tasks can be cancelled`, { state: t.state });
  }
  const live = liveOwnerIds(store);
  const res = await store.cancel([id], (o) => !live.has(o.id));
  if (res.cancelled.includes(id)) return { id, state: 'cancelled' as const, requested: false };
  if (res.requested.includes(id)) return { id, state: 'running' as const, requested: true, note: 'its runner stops it and saves a cancellation checkpoint' };
  const now = store.getTask(id);
  throw new OpError(409, `${id} is ${now?.state}; it changed meanwhile`, { state: now?.state });
}

export async function resumeTask(store: RunStore, id: string) {
  const t = store.getTask(id);
  if (!t) throw new OpError(404, `no task ${id}`);
  const res = await store.resume([id]);
  if (res.resumed.length === 0) {
    const state = res.skipped[0]?.state ?? t.state;
    throw new OpError(409, `${id} is ${state}; only cancelled or failed tasks can be resumed`, { state });
  }
  const ck = store.listCheckpoints(id)[0];
  return { id, state: 'pending' as const, from: ck ? checkpointJson(ck) : null, runners: liveOwnerIds(store).size };
}

export function runCheckpointStats(store: RunStore, runDir: string) {
  return checkpointStats([...store.allCheckpoints()], findOrphans(runDir, store));
}

export async function deleteCheckpoints(store: RunStore, runDir: string, id: string) {
  const t = store.getTask(id);
  if (!t) throw new OpError(404, `no task ${id}`);
  if (t.state === 'running' && t.owner && liveOwnerIds(store).has(t.owner.id)) {
    throw new OpError(409, `${id} is running; cancel it first, or wait until it ends`, { state: t.state });
  }
  return { id, deleted: await deleteTaskCheckpoints(store, runDir, [id]) };
}

export async function pruneRunCheckpoints(store: RunStore, runDir: string, opts: { olderThanMs?: number; keep?: number; dryRun?: boolean }) {
  return pruneCheckpoints(store, runDir, store.allCheckpoints(), { ...opts, runnersLive: liveOwnerIds(store).size > 0 });
}

