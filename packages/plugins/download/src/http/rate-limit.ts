/**
 * Requests per second per host, shared by every task of a run: a GCRA (generic cell rate
 * algorithm, the token bucket written as one timestamp) whose state is one key per host in the
 * plugin's LMDB database. Each request reserves its slot in one atomic transaction, so tasks on
 * other worker threads or in child processes see the same budget; then it sleeps until its slot.
 */
import type { PluginDb } from '@runner/core';
import { sleep } from './retry.js';

interface HostState {
  /** Theoretical arrival time of the next request, epoch ms. */
  tat: number;
  /** Emission interval the state was written with; a changed rate starts afresh. */
  t: number;
}

export class HostRateLimiter {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private local = new Map<string, HostState>();

  constructor(
    perSecond: number,
    burst: number,
    private readonly db?: PluginDb,
  ) {
    this.intervalMs = perSecond > 0 ? 1000 / perSecond : 0;
    this.toleranceMs = (Math.max(1, burst) - 1) * this.intervalMs;
  }

  get enabled(): boolean {
    return this.intervalMs > 0;
  }

  /**
   * Waits until a request to `host` may go out. A caller that wakes up well after its slot (its
   * thread was busy) takes a new one rather than go out in a burst with others that overslept.
   */
  async take(host: string, signal: AbortSignal): Promise<void> {
    if (!this.enabled) return;
    for (;;) {
      const slot = this.db ? await this.reserveShared(host) : this.reserve(this.local, host);
      const wait = slot - Date.now();
      if (wait > 0) await sleep(wait, signal);
      if (Date.now() - slot <= this.intervalMs / 4) return;
    }
  }

  /** Reserves the next slot for `host`; returns its time (epoch ms). */
  private reserve(map: { get(k: string): HostState | undefined; set(k: string, v: HostState): unknown }, host: string): number {
    const now = Date.now();
    const cur = map.get(host);
    const stale = !cur || cur.t !== this.intervalMs || cur.tat > now + 3_600_000;
    const tat = stale ? now : Math.max(cur.tat, now);
    map.set(host, { tat: tat + this.intervalMs, t: this.intervalMs });
    return Math.max(now, tat - this.toleranceMs);
  }

  private async reserveShared(host: string): Promise<number> {
    const db = this.db!;
    return db.transaction((tx) =>
      this.reserve({ get: (k) => tx.get<HostState>(['rate', k]), set: (k, v) => tx.put(['rate', k], v) }, host),
    );
  }
}
