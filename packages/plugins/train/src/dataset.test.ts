import { describe, expect, test } from 'vitest';
import { buildDataset, expandFeatures, inferenceInputs, resolveHorizon } from './dataset.js';
import type { TrainOptions } from './schema.js';
import { syntheticSeries } from './synthetic.js';

const data = (over: Partial<TrainOptions['data']> = {}): TrainOptions['data'] => ({
  from: 'download',
  features: [{ returns: [1, 5] }, { rsi: 14 }, { volumeZ: 10 }],
  label: { forwardReturn: 2 },
  split: { val: 0.2, gap: 'auto' },
  window: 1,
  normalise: 'zscore',
  ...over,
});
const fixed = (v: number | string) => (typeof v === 'number' ? v : 1);
const series = () => syntheticSeries(400, 5) as unknown as Record<string, Float64Array>;

describe('dataset', () => {
  test('splits by time: validation samples come after training ones, with a gap of the label horizon', () => {
    const s = series();
    const d = buildDataset(s, data(), fixed, 'test');
    const day = 86_400_000;
    expect(d.train.n + d.val.n + 2).toBe(400 - d.dropped);
    expect(d.val.n).toBe(Math.round((d.train.n + d.val.n + 2) * 0.2));
    // Training labels look 2 bars ahead: the gap keeps them out of the validation period.
    expect(d.val.times[0]! - d.train.times[d.train.n - 1]!).toBe(3 * day);
    for (let i = 1; i < d.train.n; i++) expect(d.train.times[i]).toBeGreaterThan(d.train.times[i - 1]!);
    // The label is the 2-bar log return.
    const t = (d.train.times[0]! - s.time![0]!) / day;
    expect(d.train.y[0]).toBeCloseTo(Math.log(s.close![t + 2]! / s.close![t]!), 6);
    expect(d.normaliser.label).toEqual({ kind: 'forwardReturn', horizon: 2 });
  });

  test('split.test holds out the most recent samples: no training or validation label reaches them', () => {
    const s = series();
    const day = 86_400_000;
    const all = buildDataset(s, data(), fixed, 'test');
    const d = buildDataset(s, data({ split: { val: 0.2, gap: 'auto', test: 0.25 } }), fixed, 'test');
    const n = all.train.n + all.val.n + 2;
    expect(d.normaliser.testSamples).toBe(Math.round(n * 0.25));
    expect(d.train.n + d.val.n + 2 + 2 + d.normaliser.testSamples!).toBe(n);
    // The last validation label looks 2 bars ahead; dataEnd is that bar, and the held-out part starts after it.
    expect(d.normaliser.dataEnd).toBe(d.val.times[d.val.n - 1]! + 2 * day);
    expect(d.normaliser.testStart!).toBeGreaterThan(d.normaliser.dataEnd!);
    expect(d.normaliser.testStart! - d.val.times[d.val.n - 1]!).toBe(3 * day);
    // Without split.test nothing is held out, and dataEnd is the end of the data a label saw.
    expect(all.normaliser.testSamples).toBeUndefined();
    expect(all.normaliser.dataEnd).toBe(all.val.times[all.val.n - 1]! + 2 * day);
  });

  test('normalisation is fitted on the training part only', () => {
    const s = series();
    const d = buildDataset(s, data(), fixed, 'test');
    const F = d.features.length;
    for (let f = 0; f < F; f++) {
      let m = 0;
      for (let i = 0; i < d.train.n; i++) m += d.train.x[i * F + f]!;
      expect(Math.abs(m / d.train.n)).toBeLessThan(1e-4);
    }
    // Changing the validation period leaves the normaliser (and the training samples) unchanged.
    const s2 = { ...s, close: s.close!.slice(), volume: s.volume!.slice() };
    for (let t = 360; t < 400; t++) {
      s2.close[t] = s2.close[t]! * 3;
      s2.volume[t] = s2.volume[t]! * 10;
    }
    const d2 = buildDataset(s2, data(), fixed, 'test');
    expect(d2.normaliser.center).toEqual(d.normaliser.center);
    expect(d2.normaliser.scale).toEqual(d.normaliser.scale);
    expect(d2.train.x).toEqual(d.train.x);
  });

  test('windows give [window, features] samples ending at their bar', () => {
    const s = series();
    const one = buildDataset(s, data({ split: { val: 0, gap: 0 }, normalise: 'none' }), fixed, 'test');
    const seq = buildDataset(s, data({ window: 4, split: { val: 0, gap: 0 }, normalise: 'none' }), fixed, 'test');
    const F = one.features.length;
    expect(seq.train.n).toBe(one.train.n - 3);
    expect(seq.train.x.length).toBe(seq.train.n * 4 * F);
    // The last bar of the first window is the 4th sample of the window-1 set.
    expect(Array.from(seq.train.x.slice(3 * F, 4 * F))).toEqual(Array.from(one.train.x.slice(3 * F, 4 * F)));
    expect(seq.normaliser.lookback).toBe(one.normaliser.lookback + 3);
  });

  test('direction labels and minmax scaling', () => {
    const d = buildDataset(series(), data({ label: { direction: 1 }, normalise: 'minmax' }), fixed, 'test');
    expect(new Set(d.train.y)).toEqual(new Set([0, 1]));
    const F = d.features.length;
    for (let i = 0; i < d.train.n * F; i++) {
      expect(d.train.x[i]).toBeGreaterThanOrEqual(-1e-6);
      expect(d.train.x[i]).toBeLessThanOrEqual(1 + 1e-6);
    }
  });

  test('inference inputs reproduce the training samples from the saved normaliser', () => {
    const s = series();
    const d = buildDataset(s, data({ window: 3 }), fixed, 'test');
    const inf = inferenceInputs(s, JSON.parse(JSON.stringify(d.normaliser)));
    const F = d.features.length;
    const first = inf.rows.indexOf((d.train.times[0]! - s.time![0]!) / 86_400_000);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(inf.shape).toEqual([inf.n, 3, F]);
    expect(Array.from(inf.x.slice(first * 3 * F, (first + 1) * 3 * F))).toEqual(Array.from(d.train.x.slice(0, 3 * F)));
  });

  test('clear errors for bad input', () => {
    const s = series();
    const noVolume = { ...s } as Record<string, Float64Array>;
    delete noVolume.volume;
    expect(() => buildDataset(noVolume, data(), fixed, 'AAPL.arrow')).toThrow(/the series AAPL.arrow has no "volume" column, which feature volumeZ needs \(columns: time, open, high, low, close\)/);
    const short = syntheticSeries(17, 1) as unknown as Record<string, Float64Array>;
    expect(() => buildDataset(short, data(), fixed, 'x.arrow')).toThrow(/has 17 bars but gives only \d+ samples: features need 14 bars of history/);
    expect(() => expandFeatures([{ returns: [5, 5] }])).toThrow(/returns_5 is listed twice/);
    expect(() => resolveHorizon('horizon', { symbol: 'AAPL' }, 'data.label.forwardReturn')).toThrow(
      /data.label.forwardReturn is "horizon" but the task's matrix cell has no key "horizon" \(cell: \{"symbol":"AAPL"\}\)/,
    );
    expect(resolveHorizon('horizon', { symbol: 'AAPL', horizon: 5 }, 'x')).toBe(5);
    expect(() => resolveHorizon('h', { h: 'soon' }, 'data.label.direction')).toThrow(/must be a whole number of bars >= 1 \(got "soon"\)/);
  });
});
