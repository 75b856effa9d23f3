import { describe, expect, test } from 'vitest';
import { computeFeature, ema, logReturn, rollingStd, rsi, sma, zScore } from './features.js';

// Reference values from StockCharts' ChartSchool worked examples (RSI, SMA and EMA spreadsheets).
const RSI_CLOSES = [
  44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931, 46.0328, 45.614, 46.282, 46.282, 46.0028, 46.0328,
  46.4116, 46.2222, 45.6439, 46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
];
const RSI_14 = [70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99, 41.46, 41.87, 45.46, 37.3, 33.08, 37.77];
const MA_CLOSES = [
  22.27, 22.19, 22.08, 22.17, 22.18, 22.13, 22.23, 22.43, 22.24, 22.29, 22.15, 22.39, 22.38, 22.61, 23.36, 24.05, 23.75, 23.83, 23.95, 23.63, 23.82, 23.87,
  23.65, 23.19, 23.1, 23.33, 22.68, 23.1, 22.4, 22.17,
];
const SMA_10 = [22.22, 22.21, 22.23, 22.26, 22.3, 22.42, 22.61, 22.77, 22.91, 23.08, 23.21, 23.38, 23.52, 23.65, 23.71, 23.68, 23.61, 23.5, 23.43, 23.28, 23.13];
const EMA_10 = [22.22, 22.21, 22.24, 22.27, 22.33, 22.52, 22.8, 22.97, 23.13, 23.28, 23.34, 23.43, 23.51, 23.53, 23.47, 23.4, 23.39, 23.26, 23.23, 23.08, 22.92];

const round2 = (a: Float64Array, from: number) => Array.from(a.slice(from), (v) => Number(v.toFixed(2)));

describe('feature library', () => {
  test("Wilder's RSI matches the StockCharts example", () => {
    const r = rsi(RSI_CLOSES, 14);
    expect(Array.from(r.slice(0, 14)).every(Number.isNaN)).toBe(true);
    expect(round2(r, 14)).toEqual(RSI_14);
  });

  test('SMA and EMA (seeded with the first SMA) match the StockCharts example', () => {
    const s = sma(MA_CLOSES, 10);
    const e = ema(MA_CLOSES, 10);
    expect(Array.from(s.slice(0, 9)).every(Number.isNaN)).toBe(true);
    expect(round2(s, 9)).toEqual(SMA_10);
    expect(round2(e, 9)).toEqual(EMA_10);
  });

  test('RSI is 100 without losses and 0 without gains', () => {
    expect(rsi([1, 2, 3, 4, 5, 6], 3)[5]).toBe(100);
    expect(rsi([6, 5, 4, 3, 2, 1], 3)[5]).toBe(0);
  });

  test('log returns, sample standard deviation and z-scores', () => {
    const x = [100, 110, 121, 133.1];
    const r = logReturn(x, 1);
    expect(r[0]).toBeNaN();
    expect(r[3]).toBeCloseTo(Math.log(1.1), 12);
    expect(logReturn(x, 3)[3]).toBeCloseTo(Math.log(1.331), 12);
    // pandas: pd.Series([2, 4, 4, 4, 5, 5, 7, 9]).rolling(8).std() = 2.138090
    expect(rollingStd([2, 4, 4, 4, 5, 5, 7, 9], 8)[7]).toBeCloseTo(2.13809, 5);
    const z = zScore([1, 2, 3, 10], 4);
    const mean = 4;
    const sd = Math.sqrt(((1 - 4) ** 2 + (2 - 4) ** 2 + (3 - 4) ** 2 + (10 - 4) ** 2) / 3);
    expect(z[3]).toBeCloseTo((10 - mean) / sd, 12);
    expect(zScore([5, 5, 5], 3)[2]).toBe(0);
  });

  test('a non-finite input makes the windows that contain it undefined, not wrong', () => {
    const x = [1, 2, NaN, 4, 5, 6, 7];
    const s = sma(x, 2);
    expect(Array.from(s, (v) => (Number.isNaN(v) ? null : v))).toEqual([null, 1.5, null, null, 4.5, 5.5, 6.5]);
    const sd = rollingStd(x, 3);
    expect(Number.isNaN(sd[4]!)).toBe(true);
    expect(sd[5]).toBeCloseTo(1, 12);
    expect(Number.isNaN(rsi([1, 2, NaN, 4, 5, 6], 2)[3]!)).toBe(true);
  });

  test('named columns and their lookback', () => {
    const close = Array.from({ length: 30 }, (_, i) => 100 + Math.sin(i));
    const s = { open: close, high: close.map((c) => c + 1), low: close.map((c) => c - 1), close, volume: close.map((_, i) => 1000 + i) };
    for (const [kind, n] of [
      ['returns', 5],
      ['smaRatio', 10],
      ['emaRatio', 10],
      ['rsi', 14],
      ['volatility', 20],
      ['volumeZ', 20],
      ['range', 5],
    ] as const) {
      const f = computeFeature(kind, n, s);
      expect(f.name).toBe(`${kind}_${n}`);
      // Defined from the first bar after its lookback on, never before.
      expect(Number.isNaN(f.values[f.lookback - 1] ?? NaN)).toBe(true);
      expect(Number.isFinite(f.values[f.lookback]!)).toBe(true);
    }
    expect(() => computeFeature('macd', 3, s)).toThrow(/unknown feature kind "macd"/);
  });
});
