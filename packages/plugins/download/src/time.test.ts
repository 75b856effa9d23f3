import { describe, expect, test } from 'vitest';
import { addIntervals, epochAuto, parseDate, parseDuration, parseInterval, parseTimestamp, weekdaysBetween } from './time.js';

describe('dates and timestamps', () => {
  test('parseDate reads dates and date-times as UTC, honours offsets, rejects impossible dates', () => {
    expect(parseDate('2024-01-02')).toBe(Date.UTC(2024, 0, 2));
    expect(parseDate('2024-01-02T03:04:05Z')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(parseDate('2024-01-02 03:04')).toBe(Date.UTC(2024, 0, 2, 3, 4));
    expect(parseDate('2024-01-02T03:04:05.250+02:00')).toBe(Date.UTC(2024, 0, 2, 1, 4, 5, 250));
    expect(parseDate('2023-02-29')).toBeNaN();
    expect(parseDate('2024-13-01')).toBeNaN();
    expect(parseDate('yesterday')).toBeNaN();
  });

  test('auto timestamps: ISO text, YYYYMMDD, and epoch s/ms/µs/ns by magnitude', () => {
    const t = Date.UTC(2024, 4, 6);
    expect(parseTimestamp('2024-05-06', 'auto')).toBe(t);
    expect(parseTimestamp('2024/05/06', 'auto')).toBe(t);
    expect(parseTimestamp('20240506', 'auto')).toBe(t);
    expect(parseTimestamp(String(t / 1000), 'auto')).toBe(t);
    expect(parseTimestamp(String(t), 'auto')).toBe(t);
    expect(parseTimestamp(String(t * 1000), 'auto')).toBe(t);
    expect(parseTimestamp(String(t * 1e6), 'auto')).toBe(t);
    expect(parseTimestamp('', 'auto')).toBeNaN();
    expect(parseTimestamp('n/a', 'auto')).toBeNaN();
    expect(parseTimestamp('1714953600', 's')).toBe(1714953600000);
    expect(parseTimestamp('20240506', 'ms')).toBe(20240506);
    expect(epochAuto(-1)).toBe(-1000);
  });

  test('intervals: fixed units add exactly, months follow the calendar and clamp the day', () => {
    expect(parseInterval('15m')).toMatchObject({ n: 15, unit: 'm' });
    expect(() => parseInterval('0h')).toThrow(/not an interval/);
    expect(addIntervals(Date.UTC(2024, 0, 1), parseInterval('1h'), 25)).toBe(Date.UTC(2024, 0, 2, 1));
    expect(addIntervals(Date.UTC(2024, 0, 31), parseInterval('1M'), 1)).toBe(Date.UTC(2024, 1, 29));
    expect(addIntervals(Date.UTC(2023, 10, 15), parseInterval('3M'), 1)).toBe(Date.UTC(2024, 1, 15));
  });

  test('weekdaysBetween counts Monday–Friday strictly between two days', () => {
    const fri = Date.UTC(2024, 0, 5);
    const mon = Date.UTC(2024, 0, 8);
    const wed = Date.UTC(2024, 0, 10);
    expect(weekdaysBetween(fri, mon)).toBe(0);
    expect(weekdaysBetween(mon, wed)).toBe(1);
    expect(weekdaysBetween(fri, Date.UTC(2024, 0, 22))).toBe(10);
  });

  test('durations', () => {
    expect(parseDuration('never')).toBe(Infinity);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('1.5d')).toBe(1.5 * 86_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('soon')).toBeNaN();
  });
});
