/** Runner registration and leases: owners, heartbeats, and the reset of work held by dead runners. */
import { judgeDeath, type DeathCause, type HeldTask } from '../run/crash-rule.js';
import { bootId, HOST, pidAlive } from '../util/proc.js';
import { putTask, pushNote, type StoreDbs } from './db.js';
import { appendEvent } from './feed.js';
import type { OwnerRecord, OwnerRef, TaskRecord } from './types.js';

/** Is the runner that wrote this owner record alive? On this host the pid decides, elsewhere the lease. */
export function ownerAlive(rec: OwnerRecord, now = Date.now()): boolean {
  if (rec.host === HOST) return pidAlive(rec.pid, rec.procStart);
  return now - rec.heartbeatAt <= rec.leaseMs;
}

export async function registerOwner(db: StoreDbs, owner: OwnerRecord): Promise<void> {
  await db.owners.transaction(() => {
    db.owners.put(owner.id, owner);
    appendEvent(db, { type: 'runner:start', owner: owner.id, data: { pid: owner.pid, host: owner.host } });
  });
}

export async function heartbeat(db: StoreDbs, ownerId: string, now = Date.now()): Promise<boolean> {
  return db.owners.transaction(() => {
    const o = db.owners.get(ownerId);
    if (!o) return false;
    db.owners.put(ownerId, { ...o, heartbeatAt: now });
    return true;
  });
}

export async function removeOwner(db: StoreDbs, ownerId: string): Promise<void> {
  await db.owners.transaction(() => {
    if (db.owners.get(ownerId)) {
      db.owners.remove(ownerId);
      appendEvent(db, { type: 'runner:stop', owner: ownerId });
    }
  });
}

/**
 * Resets tasks left running by runners that are gone. `isStale` decides per owner. Each reset
 * task goes back to pending with the note "interrupted; resumed after restart"; its attempt
 * stays counted and its checkpoints are kept.
 */
export async function resetStale(db: StoreDbs, isStale: (owner: OwnerRef, record?: OwnerRecord) => boolean): Promise<TaskRecord[]> {
  const staleOwners = new Set<string>();
  const liveOwners = new Set<string>();
  const candidates: string[] = [];
  for (const { key, value } of db.states.getRange()) {
    if (value[0] !== 'running') continue;
    const oid = value[2];
    if (!staleOwners.has(oid) && !liveOwners.has(oid)) {
      const rec = db.tasks.get(key);
      if (!rec?.owner) continue;
      (isStale(rec.owner, db.owners.get(oid)) ? staleOwners : liveOwners).add(oid);
    }
    if (staleOwners.has(oid)) candidates.push(key);
  }
  if (candidates.length === 0 && staleOwners.size === 0) return [];
  return db.tasks.transaction(() => {
    const out: TaskRecord[] = [];
    const now = Date.now();
    const held = new Map<string, TaskRecord[]>();
    for (const id of candidates) {
      const rec = db.tasks.get(id);
      if (!rec || rec.state !== 'running' || !rec.owner || !staleOwners.has(rec.owner.id)) continue;
      held.set(rec.owner.id, [...(held.get(rec.owner.id) ?? []), rec]);
    }
    for (const [oid, recs] of held) {
      const verdicts = judgeDeath(recs.map((r) => heldTask(db, r)), deathCause(db.owners.get(oid)));
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
        putTask(db, next);
        appendEvent(db, { type: 'task:reset', task: id, state: next.state, owner: oid, time: now, ...(v.note ? { data: { quarantine: v.note } } : {}) });
        out.push(next);
      }
    }
    for (const oid of staleOwners) if (db.owners.get(oid)) db.owners.remove(oid);
    return out;
  });
}

/** A task held by a dead runner, as the crash rule sees it: did its attempt make progress? */
function heldTask(db: StoreDbs, rec: TaskRecord): HeldTask {
  const since = rec.startedAt ?? Infinity;
  let progressed = (rec.lastCheckpoint?.time ?? -Infinity) >= since;
  // A plugin that commits its own durable state (a paper trader's per-bar ledger) shows progress
  // as a step beyond where the attempt started; one that restarts from scratch does not.
  if (!progressed && typeof rec.progress?.step === 'number' && (rec.progress.updatedAt ?? -Infinity) >= since) {
    progressed = rec.progress.step > (rec.attemptStep ?? Infinity);
  }
  if (!progressed) {
    for (const { key, value } of db.tasks.getRange({ start: `${rec.id}/` })) {
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
function deathCause(owner: OwnerRecord | undefined): DeathCause {
  if (owner?.exit === 'signal') return 'signal';
  const boot = bootId();
  // Boot ids only compare on the same host (a runner on another host has its own).
  if (boot && owner?.host === HOST && owner.procStart && !owner.procStart.startsWith(`${boot}:`)) return 'reboot';
  return 'unexplained';
}

/** Marks a runner as exiting on purpose with tasks running (synchronous: called just before exit). */
export function markExiting(db: StoreDbs, ownerId: string): void {
  const o = db.owners.get(ownerId);
  if (o) db.owners.putSync(ownerId, { ...o, exit: 'signal' });
}
