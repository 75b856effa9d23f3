import { performance } from 'node:perf_hooks';
import type { OwnerRecord } from '../store/types.js';
import { HOST, pidAlive } from '../util/proc.js';

/**
 * Judges whether other runners are alive without comparing two hosts' clocks. On this host the
 * pid (and its start time) decides. For a runner on another host, this process watches the
 * owner's heartbeat stamp on its own monotonic clock: a runner is gone once its stamp has not
 * changed for `leaseMs` as measured here. Skew between hosts or a jump of either wall clock does
 * not matter, since the stamp is only compared with its own earlier value.
 *
 * The price: a runner seen for the first time is given a full lease before it can be judged, so
 * taking over a dead runner's tasks on another host takes up to `lease.ttlMs` after this runner
 * starts.
 */
export class LeaseObserver {
  private readonly seen = new Map<string, { stamp: number; at: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  alive(rec: OwnerRecord): boolean {
    if (rec.host === HOST) return pidAlive(rec.pid, rec.procStart);
    const t = this.now();
    const prev = this.seen.get(rec.id);
    if (!prev || prev.stamp !== rec.heartbeatAt) {
      this.seen.set(rec.id, { stamp: rec.heartbeatAt, at: t });
      return true;
    }
    return t - prev.at <= rec.leaseMs;
  }
}
