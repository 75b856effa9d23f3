import { describe, expect, test } from 'vitest';
import { isDownloadError } from '../errors.js';
import { parseInterval } from '../time.js';
import { checkSeries, countGaps } from './checks.js';
import type { Frame } from './frame.js';
import { compareSeries } from './store.js';

const H = 3_600_000;
const D = 86_400_000;

function frame(times: number[], values?: number[]): Frame {
  return {
    time: Float64Array.from(times),
    names: ['close'],
    cols: [Float64Array.from(values ?? times.map((_, i) => i))],
    rowRef: (i) => `line ${i + 2}`,
  };
}

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('data checks', () => {
  const base = { sort: false, duplicates: 'error' as const, calendar: 'continuous' as const };

  test('out-of-order rows name both lines and suggest checks.sort', () => {
    const err = thrown(() => checkSeries('AAPL', frame([0, 2 * H, H]), base));
    expect(isDownloadError(err, 'DOWNLOAD_DATA')).toBe(true);
    expect(err.message).toMatch(/^AAPL: line 4: time 1970-01-01T01:00:00.000Z comes before 1970-01-01T02:00:00.000Z on line 3; timestamps must increase/);
    expect(err.message).toMatch(/checks\.sort: true/);
    const sorted = checkSeries('AAPL', frame([2 * H, 0, H], [20, 0, 10]), { ...base, sort: true });
    expect(Array.from(sorted.frame.time)).toEqual([0, H, 2 * H]);
    expect(Array.from(sorted.frame.cols[0]!)).toEqual([0, 10, 20]);
    expect(sorted.sorted).toBe(true);
    expect(sorted.frame.rowRef(0)).toBe('line 3');
  });

  test('duplicates fail by default, or keep the first or the last', () => {
    expect(() => checkSeries('X', frame([0, H, H, 2 * H]), base)).toThrow(/line 4: repeats the time 1970-01-01T01:00:00.000Z of line 3/);
    const first = checkSeries('X', frame([0, H, H, 2 * H], [1, 2, 3, 4]), { ...base, duplicates: 'first' });
    expect(Array.from(first.frame.cols[0]!)).toEqual([1, 2, 4]);
    expect(first.dropped).toBe(1);
    const last = checkSeries('X', frame([0, H, H, 2 * H], [1, 2, 3, 4]), { ...base, duplicates: 'last' });
    expect(Array.from(last.frame.cols[0]!)).toEqual([1, 3, 4]);
  });

  test('gaps: wider than 1.5 intervals, or a missing weekday on the weekday calendar', () => {
    const hourly = [0, H, 2 * H, 5 * H, 6 * H, 9 * H];
    expect(countGaps(Float64Array.from(hourly), 'continuous', parseInterval('1h')).gaps).toBe(2);
    expect(countGaps(Float64Array.from(hourly), 'continuous').gaps).toBe(2); // median spacing
    const fri = Date.UTC(2024, 0, 5);
    const days = [fri - D, fri, fri + 3 * D, fri + 5 * D]; // Thu, Fri, Mon, Wed (Tue missing)
    expect(countGaps(Float64Array.from(days), 'weekdays', parseInterval('1d'))).toMatchObject({ gaps: 1, samples: ['2024-01-08T00:00:00.000Z → 2024-01-10T00:00:00.000Z'] });
    expect(countGaps(Float64Array.from(days), 'continuous', parseInterval('1d')).gaps).toBe(2);
  });
});

describe('change detection', () => {
  const old = { time: Float64Array.from([0, H, 2 * H, 3 * H]), columns: { time: Float64Array.from([0, H, 2 * H, 3 * H]), close: Float64Array.from([1, 2, NaN, 4]) } };

  test('growth at either end is not a change; NaN equals NaN', () => {
    expect(compareSeries(old, frame([0, H, 2 * H, 3 * H, 4 * H], [1, 2, NaN, 4, 5]))).toBeUndefined();
    expect(compareSeries(old, frame([2 * H, 3 * H, 4 * H], [NaN, 4, 5]))).toBeUndefined();
  });

  test('a revised value or a row gone inside the common range is a change', () => {
    expect(compareSeries(old, frame([0, H, 2 * H, 3 * H], [1, 2.5, NaN, 4]))).toMatchObject({ rows: 1, first: '1970-01-01T01:00:00.000Z' });
    expect(compareSeries(old, frame([0, 2 * H, 3 * H], [1, NaN, 4]))).toMatchObject({ rows: 1, first: '1970-01-01T01:00:00.000Z' });
  });
});
