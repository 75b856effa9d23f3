/** Reconciling the planned tasks with the stored ones: new tasks, reopened ones, children, adopted shard results. */
import { putTask, pushNote, type StoreDbs } from './db.js';
import { appendEvent } from './feed.js';
import type { PlannedTaskInput, PlanSync, TaskRecord } from './types.js';

/**
 * Inserts planned tasks that are new, and reopens completed tasks whose options or targets
 * changed, together with every completed task downstream of them.
 */
export async function syncPlan(db: StoreDbs, planned: PlannedTaskInput[], dependents: Map<string, string[]>): Promise<PlanSync> {
  const sync: PlanSync = { inserted: 0, rerun: [], invalidated: [] };
  const now = Date.now();
  const existing = new Map<string, TaskRecord>();
  for (const { key, value } of db.tasks.getRange()) existing.set(key, value);
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
    await db.tasks.transaction(() => {
      for (const rec of chunk) {
        const cur = db.tasks.get(rec.id);
        // Another runner may have claimed it meanwhile; never touch a running task.
        if (cur && cur.state === 'running') continue;
        if (!cur) sync.inserted++;
        putTask(db, rec);
        if (reopen.has(rec.id)) appendEvent(db, { type: 'task:reopen', task: rec.id, state: 'pending', data: { reason: reopen.get(rec.id) } });
      }
    });
  }
  return sync;
}

/** Inserts a child task if it does not exist; returns the current record. */
export async function ensureChild(db: StoreDbs, p: PlannedTaskInput): Promise<TaskRecord> {
  return db.tasks.transaction(() => {
    const cur = db.tasks.get(p.id);
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
        putTask(db, upd);
        return upd;
      }
      if (cur.state === 'pending' && cur.retryAt !== undefined) {
        const upd: TaskRecord = { ...cur, retryAt: undefined, updatedAt: Date.now() };
        putTask(db, upd);
        return upd;
      }
      return cur;
    }
    const rec = newRecord(p, Date.now());
    putTask(db, rec);
    return rec;
  });
}

/**
 * Writes completed task records taken from other stores (`runner gather` imports the shards'
 * results). A record already here, completed with the same fingerprint, targets and end time, is
 * left alone; for each one that changed, completed tasks downstream reopen.
 */
export async function adoptTasks(db: StoreDbs, records: TaskRecord[], dependents: Map<string, string[]>, note: string): Promise<{ adopted: string[]; reopened: string[] }> {
  const adopted: string[] = [];
  const reopened: string[] = [];
  const now = Date.now();
  await db.tasks.transaction(() => {
    for (const rec of records) {
      const cur = db.tasks.get(rec.id);
      if (cur?.state === 'running') continue;
      if (cur?.state === 'completed' && cur.fingerprint === rec.fingerprint && cur.targets === rec.targets && cur.endedAt === rec.endedAt) continue;
      const { owner: _owner, ...rest } = rec;
      putTask(db, { ...rest, notes: pushNote(rec.notes, note), updatedAt: now });
      appendEvent(db, { type: 'task:adopt', task: rec.id, state: rec.state });
      adopted.push(rec.id);
    }
    const adoptedSet = new Set(adopted);
    const queue = [...adopted];
    const seen = new Set<string>();
    while (queue.length > 0) {
      for (const d of dependents.get(queue.pop()!) ?? []) {
        if (seen.has(d) || adoptedSet.has(d)) continue;
        seen.add(d);
        const cur = db.tasks.get(d);
        if (cur?.state !== 'completed') continue;
        putTask(db, { ...cur, state: 'pending', result: undefined, error: undefined, retriesUsed: 0, notes: pushNote(cur.notes, 'reopened: a shard\'s result it needs changed'), updatedAt: now });
        appendEvent(db, { type: 'task:reopen', task: d, state: 'pending', data: { reason: 'gathered input changed' } });
        reopened.push(d);
        queue.push(d);
      }
    }
  });
  return { adopted, reopened };
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
