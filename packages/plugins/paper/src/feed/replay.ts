/**
 * Replays a stored series (the download plugin's Arrow file) bar by bar, starting after the last
 * committed bar: `speed` times real time (bar spacing ÷ speed, anchored to the wall clock so the
 * pace does not drift with processing time), or `max`, as fast as the loop commits.
 */
import type { NumericArray } from '@runner/core/series';
import { BarGuard } from './guard.js';
import { sleep } from './sleep.js';
import type { Bar, Feed, FeedHealth, HealthListener } from './types.js';

export interface ReplayColumns {
  time: NumericArray;
  open: NumericArray;
  high: NumericArray;
  low: NumericArray;
  close: NumericArray;
  volume?: NumericArray;
  /** Per-bar model predictions (NaN: none), handed out as each bar's `signal`. */
  signal?: NumericArray;
}

export interface ReplayOptions {
  /** Multiple of real time, or 'max'. */
  speed: number | 'max';
  /** Time of the last processed bar; the replay starts after it. */
  after: number;
  /** Rows [from, to) are replayed (default: all); a bar before `from` is never handed out. */
  from?: number;
  to?: number;
  onHealth?: HealthListener;
}

export class ReplayFeed implements Feed {
  private i: number;
  private readonly end: number;
  private readonly guard: BarGuard;
  private anchor?: { wall: number; time: number };
  private readonly h: FeedHealth = { type: 'replay', state: 'starting', errors: 0, retries: 0, duplicates: 0, rejected: 0, stalled: false };

  constructor(
    private readonly cols: ReplayColumns,
    private readonly opts: ReplayOptions,
  ) {
    this.i = Math.max(opts.from ?? 0, firstAfter(cols.time, opts.after));
    this.end = Math.min(opts.to ?? cols.time.length, cols.time.length);
    this.guard = new BarGuard(opts.after);
  }

  /** Index of the next bar to hand out. */
  get position(): number {
    return this.i;
  }

  get length(): number {
    return this.end;
  }

  async next(signal: AbortSignal): Promise<Bar | undefined> {
    const c = this.cols;
    while (this.i < this.end) {
      const k = this.i;
      const bar: Bar = { time: c.time[k]!, open: c.open[k]!, high: c.high[k]!, low: c.low[k]!, close: c.close[k]!, volume: c.volume ? c.volume[k]! : NaN };
      if (c.signal) bar.signal = c.signal[k]!;
      if (this.opts.speed !== 'max') {
        this.anchor ??= { wall: Date.now(), time: bar.time };
        const due = this.anchor.wall + (bar.time - this.anchor.time) / this.opts.speed;
        if (due > Date.now()) {
          this.h.state = 'waiting';
          await sleep(due - Date.now(), signal);
        }
      } else signal.throwIfAborted();
      this.i++;
      const verdict = this.guard.check(bar);
      if (verdict !== 'accept') {
        if (verdict === 'duplicate') this.h.duplicates++;
        else this.h.rejected++;
        this.h.lastError = this.guard.describe(bar, verdict);
        this.opts.onHealth?.(this.health(), { kind: verdict === 'duplicate' ? 'duplicate' : 'rejected', message: this.h.lastError });
        continue;
      }
      this.h.state = 'ok';
      this.h.lastBarTime = bar.time;
      this.h.lastBarAt = Date.now();
      return bar;
    }
    this.h.state = 'ended';
    return undefined;
  }

  health(): FeedHealth {
    return { ...this.h };
  }

  async close(): Promise<void> {}
}

/** Index of the first time strictly after `after` (times increase). */
export function firstAfter(time: NumericArray, after: number): number {
  let lo = 0;
  let hi = time.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
