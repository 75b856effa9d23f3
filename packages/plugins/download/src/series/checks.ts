/**
 * Checks before a series is stored: timestamps strictly increase (optionally after sorting),
 * duplicates fail or are dropped by policy, and gaps are counted against the expected interval.
 */
import { dataError } from '../errors.js';
import { iso, nominalMs, weekdaysBetween, type Interval } from '../time.js';
import { takeRows, type Frame } from './frame.js';

export interface CheckOptions {
  sort: boolean;
  duplicates: 'error' | 'first' | 'last';
  calendar: 'continuous' | 'weekdays';
  interval?: Interval;
}

export interface CheckReport {
  frame: Frame;
  gaps: number;
  /** The first few gaps, "2024-01-03T00:00:00.000Z → 2024-01-05T00:00:00.000Z". */
  gapSamples: string[];
  /** Rows dropped as duplicates. */
  dropped: number;
  /** True when the rows had to be sorted. */
  sorted: boolean;
}

export function checkSeries(symbol: string, input: Frame, o: CheckOptions): CheckReport {
  let frame = input;
  const n0 = frame.time.length;
  let sorted = false;
  if (o.sort && !isNonDecreasing(frame.time)) {
    const idx = Array.from({ length: n0 }, (_, i) => i);
    const t = frame.time;
    idx.sort((a, b) => t[a]! - t[b]! || a - b);
    frame = takeRows(frame, idx, (i) => input.rowRef(idx[i]!));
    sorted = true;
  }
  const t = frame.time;
  const n = t.length;
  const keep: number[] = [];
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && t[i]! <= t[i - 1]!) {
      if (t[i]! < t[i - 1]!) {
        throw dataError(
          symbol,
          frame.rowRef(i),
          `time ${iso(t[i]!)} comes before ${iso(t[i - 1]!)} on ${shortRef(frame.rowRef(i - 1), frame.rowRef(i))}; timestamps must increase`,
          'If the source lists newest first, set checks.sort: true',
        );
      }
      if (o.duplicates === 'error') {
        throw dataError(symbol, frame.rowRef(i), `repeats the time ${iso(t[i]!)} of ${shortRef(frame.rowRef(i - 1), frame.rowRef(i))}`, 'Set checks.duplicates to first or last to keep one of them');
      }
      dropped++;
      if (o.duplicates === 'last') keep[keep.length - 1] = i;
      continue;
    }
    keep.push(i);
  }
  if (dropped > 0) {
    const base = frame;
    frame = takeRows(base, keep, (i) => base.rowRef(keep[i]!));
  }
  const { gaps, samples } = countGaps(frame.time, o.calendar, o.interval);
  return { frame, gaps, gapSamples: samples, dropped, sorted };
}

/** "line 2 of URL" next to "line 3 of URL" reads as "line 2". */
function shortRef(ref: string, next: string): string {
  const k = ref.indexOf(' of ');
  return k > 0 && next.endsWith(ref.slice(k)) ? ref.slice(0, k) : ref;
}

function isNonDecreasing(t: Float64Array): boolean {
  for (let i = 1; i < t.length; i++) if (t[i]! < t[i - 1]!) return false;
  return true;
}

const DAY = 86_400_000;

/**
 * Gaps: spacings wider than 1.5 × the interval (the declared one, else the median spacing). On
 * the weekday calendar with daily bars, a gap is a missing Monday–Friday.
 */
export function countGaps(t: Float64Array, calendar: 'continuous' | 'weekdays', interval?: Interval): { gaps: number; samples: string[]; stepMs: number } {
  const n = t.length;
  if (n < 2) return { gaps: 0, samples: [], stepMs: interval ? nominalMs(interval) : 0 };
  const step = interval ? nominalMs(interval) : medianSpacing(t);
  const daily = step >= DAY * 0.9 && step <= DAY * 1.1;
  const weekdays = calendar === 'weekdays' && daily;
  let gaps = 0;
  const samples: string[] = [];
  for (let i = 1; i < n; i++) {
    const d = t[i]! - t[i - 1]!;
    const gap = weekdays ? weekdaysBetween(t[i - 1]!, t[i]!) > 0 : d > step * 1.5;
    if (gap) {
      gaps++;
      if (samples.length < 5) samples.push(`${iso(t[i - 1]!)} → ${iso(t[i]!)}`);
    }
  }
  return { gaps, samples, stepMs: step };
}

export function medianSpacing(t: Float64Array): number {
  const n = t.length;
  if (n < 2) return 0;
  // A sample is enough for a median and keeps this linear on long series.
  const stride = Math.max(1, Math.floor((n - 1) / 4096));
  const d: number[] = [];
  for (let i = 1; i < n; i += stride) d.push(t[i]! - t[i - 1]!);
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)]!;
}
