/**
 * The runner's heartbeat and its bookkeeping between heartbeats: renew the lease (and check the
 * store's files are still the ones opened), pick up `runner cancel` requests, reset the work of
 * runners that died (every fifth beat), follow the changes other processes make through the
 * store's event feed, and flush task progress in batches.
 */
import { leaseLost } from '../../errors.js';
import type { RunStore } from '../../store/lmdb-store.js';
import type { OwnerRecord, OwnerRef, TaskProgress, TaskRecord } from '../../store/types.js';
import type { Active } from '../active.js';
import { LeaseObserver } from '../liveness.js';

export interface HousekeepingHost {
  store(): RunStore;
  readonly owner: OwnerRef;
  /** The run stopped for an error: no more heartbeats. */
  fatal(): boolean;
  /** This runner may no longer write to the store. */
  abandoned(): boolean;
  active(): Iterable<Active>;
  cancel(a: Active, reason: string): void;
  /** Other processes changed these tasks (or, with 'all', possibly every task). */
  changedElsewhere(ids: readonly string[] | 'all'): void;
  onStoreError(err: unknown): void;
  kick(): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/** Every this many heartbeats, stale work of dead runners is reset. */
const RESET_EVERY = 5;

export class Housekeeping {
  private readonly leases = new LeaseObserver();
  /** Progress not yet written to the store, by task id. */
  readonly progress = new Map<string, TaskProgress>();
  /** The last event of the store's feed seen. */
  lastSeq = 0;
  private ticks = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly host: HousekeepingHost) {}

  /** Another runner is gone: its lease expired on this process's clock, or it has no record. */
  isStale(o: OwnerRef, rec?: OwnerRecord): boolean {
    if (o.id === this.host.owner.id) return false;
    return !rec || !this.leases.alive(rec);
  }

  start(heartbeatMs: number, progressFlushMs: number): void {
    const hb = setInterval(() => void this.tick(), heartbeatMs);
    const pf = setInterval(() => void this.flushProgress(), progressFlushMs);
    this.timers.push(hb, pf);
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }

  /** Heartbeat: renew the lease, pick up cancel requests and other runners' changes. */
  async tick(): Promise<void> {
    const host = this.host;
    if (host.fatal()) return;
    try {
      const store = host.store();
      store.checkFiles();
      if (!(await store.heartbeat(host.owner.id))) {
        throw leaseLost(`this runner (pid ${process.pid} on ${host.owner.host}) was taken for dead by another runner, which removed its registration and took over its tasks; stopping at once`);
      }
      store.refresh();
      for (const a of host.active()) {
        if (a.cancelKind) continue;
        if (store.getTask(a.id)?.cancelRequested) host.cancel(a, 'cancelled by `runner cancel`');
      }
      if (++this.ticks % RESET_EVERY === 0) for (const n of quarantineNotes(await store.resetStale((o, rec) => this.isStale(o, rec)))) host.log('warn', n);
      this.followOthers();
    } catch (err) {
      host.onStoreError(err);
    }
    host.kick();
  }

  /** Applies state changes other processes made (runners, `cancel`, `resume`). */
  followOthers(): void {
    const touched = new Set<string>();
    let all = false;
    for (const ev of this.host.store().eventsAfter(this.lastSeq)) {
      this.lastSeq = ev.seq;
      if (ev.owner === this.host.owner.id) continue;
      if (ev.type === 'run:reset') all = true;
      else if (ev.task) touched.add(ev.task);
    }
    this.host.changedElsewhere(all ? 'all' : [...touched]);
  }

  async flushProgress(): Promise<void> {
    if (this.progress.size === 0 || this.host.abandoned()) return;
    const batch = new Map(this.progress);
    this.progress.clear();
    try {
      await this.host.store().saveProgress(batch, this.host.owner.id);
    } catch (err) {
      this.host.onStoreError(err);
    }
  }
}

/** What the crash rule decided for tasks a dead runner held, as notes for the user. */
export function quarantineNotes(reset: TaskRecord[]): string[] {
  const out: string[] = [];
  for (const r of reset) {
    const q = /^\S+ (quarantined: .*)$/.exec(r.notes.at(-1) ?? '');
    if (r.quarantine && q) out.push(`${r.id} is ${q[1]}`);
  }
  return out;
}
