/**
 * Who is to blame when a runner dies? The runner that restarts sees only that a process is gone
 * and which tasks it held. A kill from outside (the user, a CI timeout, a reboot) and a task that
 * brings the process down itself (a native crash, an out-of-memory kill under thread isolation)
 * look the same from one death. So one death blames nobody, and a verdict that could be wrong
 * must not change any result:
 *
 * - A death counts against a task (a *suspect death*) only when the task made no progress in the
 *   attempt that died: it committed no checkpoint, and (for a parent) no child of it ended. A
 *   parent whose child was running at the death was waiting for it and is not a suspect.
 *   Deaths the store can explain do not count at all: the machine rebooted (another boot id), or
 *   the runner exited on a second Ctrl+C.
 * - After {@link QUARANTINE_AFTER} suspect deaths in a row, the task is *quarantined*: it runs in
 *   its own process (as with `isolation: process`), which changes nothing in its results. An
 *   innocent task completes there; a guilty one now ends only its own process, the runner sees it
 *   happen, and that is an ordinary failure of the task, retried per the stage's `retries`.
 *
 * So interruptions from outside, however many, never fail a task; a task that keeps killing the
 * process fails after a bounded number of attempts (QUARANTINE_AFTER + retries.max + 1).
 */

/** Consecutive suspect deaths of a task (kept on its record while it is pending or running). */
export interface Suspicion {
  deaths: number;
  /** Other suspects present at every one of these deaths (empty: it was alone each time). */
  peers: string[];
}

/** A task that a dead runner held, as the rule sees it. */
export interface HeldTask {
  id: string;
  parent?: string;
  /** It committed a checkpoint, or a child of it ended, during the attempt that died. */
  progressed: boolean;
  suspect?: Suspicion;
  quarantine?: boolean;
}

/** Why the runner is gone, as far as the store can tell. */
export type DeathCause = 'unexplained' | 'reboot' | 'signal';

export interface Verdict {
  suspect?: Suspicion;
  quarantine?: boolean;
  /** Set when this death quarantined it: why, for the task's notes and the runner's log. */
  note?: string;
}

/** Suspect deaths in a row after which a task runs in its own process. */
export const QUARANTINE_AFTER = 2;

/** The new suspicion of each task a dead runner held. */
export function judgeDeath(held: HeldTask[], cause: DeathCause): Map<string, Verdict> {
  const out = new Map<string, Verdict>();
  const running = new Set(held.map((t) => t.id));
  const waitingParents = new Set(held.flatMap((t) => (t.parent && running.has(t.parent) ? [t.parent] : [])));
  const suspects = new Set(held.filter((t) => !t.progressed && !waitingParents.has(t.id)).map((t) => t.id));
  for (const t of held) {
    const keep: Verdict = { ...(t.suspect ? { suspect: t.suspect } : {}), ...(t.quarantine ? { quarantine: true } : {}) };
    if (cause !== 'unexplained' || waitingParents.has(t.id)) {
      out.set(t.id, keep);
      continue;
    }
    if (t.progressed) {
      out.set(t.id, t.quarantine ? { quarantine: true } : {});
      continue;
    }
    const others = [...suspects].filter((id) => id !== t.id);
    const deaths = (t.suspect?.deaths ?? 0) + 1;
    const peers = t.suspect ? t.suspect.peers.filter((p) => others.includes(p)) : others;
    const v: Verdict = { suspect: { deaths, peers } };
    if (t.quarantine) v.quarantine = true;
    else if (deaths >= QUARANTINE_AFTER) {
      v.quarantine = true;
      v.note =
        `quarantined: it was running at each of the last ${deaths} runner deaths without saving a checkpoint ` +
        `(${peers.length === 0 ? 'alone' : `together with ${peers.join(', ')}`}); it may be what brings the runner down ` +
        `(a native crash or out of memory), so it now runs in its own process`;
    }
    out.set(t.id, v);
  }
  return out;
}
