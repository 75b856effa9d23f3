/**
 * The ordering rule every feed applies before a bar reaches the engine: times strictly increase.
 * A bar repeating a recent one exactly is a duplicate (dropped quietly); any other bar at or
 * before the last accepted time is out of order (rejected and reported); non-finite or
 * inconsistent prices are invalid (rejected). Nothing is ever reordered or invented.
 */
import type { Bar } from './types.js';

export type Verdict = 'accept' | 'duplicate' | 'out-of-order' | 'invalid';

const RECENT = 512;

export class BarGuard {
  private last: number;
  private readonly recent = new Map<number, string>();

  /**
   * `after`: the time of the last bar already processed (-Infinity for none); `lastBar`: that bar,
   * when known, so that a resend of it after a restart is told apart from a revision.
   */
  constructor(after: number, lastBar?: Bar) {
    this.last = after;
    if (lastBar && lastBar.time === after) this.recent.set(lastBar.time, keyOf(lastBar));
  }

  get lastTime(): number {
    return this.last;
  }

  check(bar: Bar): Verdict {
    if (!isValid(bar)) return 'invalid';
    if (bar.time > this.last) {
      this.last = bar.time;
      this.recent.set(bar.time, keyOf(bar));
      if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value!);
      return 'accept';
    }
    const seen = this.recent.get(bar.time);
    if (seen !== undefined && seen === keyOf(bar)) return 'duplicate';
    // After a restart the recent window is empty: a repeat of the last committed bar is a
    // duplicate too (servers resend the bar at `since`).
    if (seen === undefined && bar.time === this.last && this.recent.size === 0) return 'duplicate';
    return 'out-of-order';
  }

  /** Why `check` said no, for logs and the status line. */
  describe(bar: Bar, verdict: Verdict): string {
    const t = new Date(bar.time).toISOString();
    if (verdict === 'invalid') return `bar ${Number.isFinite(bar.time) ? t : String(bar.time)} rejected: invalid values (need finite numbers with low <= open, close <= high)`;
    if (verdict === 'duplicate') return `bar ${t} received again; dropped`;
    const seen = this.recent.has(bar.time);
    return seen
      ? `bar ${t} rejected: it repeats a processed bar's time with other values (a revised bar is not applied after the fact)`
      : `bar ${t} rejected: out of order (the last processed bar is ${new Date(this.last).toISOString()})`;
  }
}

function keyOf(b: Bar): string {
  return `${b.open},${b.high},${b.low},${b.close},${b.volume}`;
}

export function isValid(b: Bar): boolean {
  for (const v of [b.time, b.open, b.high, b.low, b.close]) if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  return b.low <= b.high && b.low <= Math.min(b.open, b.close) && b.high >= Math.max(b.open, b.close) && !(b.volume < 0);
}
