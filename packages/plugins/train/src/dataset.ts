/**
 * From a series to training samples: features and label per bar, windows of bars per sample, a
 * split by time with a gap so that training labels never look into the validation period, and
 * normalisation fitted on the training part only.
 */
import { dataInvalid, optionsInvalid } from './errors.js';
import { computeFeature, type FeatureColumn } from './features.js';
import type { FeatureSpec, TrainOptions } from './schema.js';

export interface Split {
  /** Samples × window × features, row-major. */
  x: Float32Array;
  /** One label per sample. */
  y: Float32Array;
  n: number;
  /** Time (epoch ms, or the bar index when the series has no time column) of each sample's last bar. */
  times: Float64Array;
}

export interface Normaliser {
  format: 'runner-train-normaliser';
  version: 1;
  method: 'zscore' | 'minmax' | 'none';
  /** Feature names in input order, e.g. returns_5. */
  features: string[];
  /** The feature specs as written in the options, to recompute them for inference. */
  specs: FeatureSpec[];
  /** zscore: (x - center) / scale; minmax: (x - center) / scale with center = min, scale = max - min. */
  center: number[];
  scale: number[];
  window: number;
  label: { kind: 'forwardReturn' | 'direction'; horizon: number };
  /** Bars of history needed before the first sample. */
  lookback: number;
  trainSamples: number;
  valSamples: number;
  gap: number;
  trainEnd?: number;
  valStart?: number;
  /**
   * Time of the last bar any training or validation sample saw, its label's bar included (the
   * last sample's time + horizon bars). Later stages trade only after it (no look-ahead).
   */
  dataEnd?: number;
}

export interface Dataset {
  train: Split;
  val: Split;
  features: string[];
  window: number;
  normaliser: Normaliser;
  /** Bars that could not become samples (warm-up, last `horizon` bars, non-finite values). */
  dropped: number;
  rows: number;
}

export type Columns = Record<string, ArrayLike<number>>;

const NEEDS: Record<string, string[]> = {
  returns: ['close'],
  smaRatio: ['close'],
  emaRatio: ['close'],
  rsi: ['close'],
  volatility: ['close'],
  volumeZ: ['volume'],
  range: ['high', 'low', 'close'],
};

/** Resolves a label horizon: a number, or the name of a matrix key of the task's cell. */
export function resolveHorizon(value: number | string, cell: Readonly<Record<string, unknown>>, path: string): number {
  let h: unknown = value;
  if (typeof value === 'string') {
    if (!(value in cell)) {
      throw optionsInvalid(
        `${path} is "${value}" but the task's matrix cell has no key "${value}" (cell: ${JSON.stringify(cell)})`,
        `Add ${value} to the matrix, or set ${path} to a number of bars.`,
      );
    }
    h = cell[value];
  }
  const n = typeof h === 'string' ? Number(h) : h;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw optionsInvalid(`${path} must be a whole number of bars >= 1 (got ${JSON.stringify(h)})`, 'Use a positive integer such as 1 or 5.');
  }
  return n;
}

/** Expands `[{ returns: [1, 5] }, { rsi: 14 }]` into (kind, period) pairs, rejecting duplicates. */
export function expandFeatures(specs: FeatureSpec[]): { kind: string; period: number }[] {
  const out: { kind: string; period: number }[] = [];
  const seen = new Set<string>();
  for (const [i, spec] of specs.entries()) {
    const [kind, value] = Object.entries(spec)[0] as [string, number | number[]];
    for (const period of Array.isArray(value) ? value : [value]) {
      const name = `${kind}_${period}`;
      if (seen.has(name)) throw optionsInvalid(`data.features[${i}]: ${name} is listed twice`, 'List each feature and period once.');
      if (kind === 'volatility' && period < 2) throw optionsInvalid(`data.features[${i}]: volatility needs a period of at least 2 (got ${period})`, 'A standard deviation needs two values.');
      seen.add(name);
      out.push({ kind, period });
    }
  }
  return out;
}

/** Computes the feature columns of a series (used for training and, with a saved normaliser, for inference). */
export function featureColumns(columns: Columns, specs: FeatureSpec[], source: string): FeatureColumn[] {
  const present = Object.keys(columns);
  const list = expandFeatures(specs);
  for (const { kind } of list) {
    for (const col of NEEDS[kind] ?? []) {
      if (!columns[col]) {
        throw dataInvalid(
          `the series ${source} has no "${col}" column, which feature ${kind} needs (columns: ${present.join(', ') || 'none'})`,
          'Use a series with time, open, high, low, close and volume columns, or remove the feature.',
        );
      }
    }
  }
  const none = new Float64Array(0);
  const s = {
    open: columns.open ?? none,
    high: columns.high ?? none,
    low: columns.low ?? none,
    close: columns.close ?? none,
    volume: columns.volume ?? none,
  };
  return list.map(({ kind, period }) => computeFeature(kind, period, s));
}

export function labelColumn(close: ArrayLike<number>, kind: 'forwardReturn' | 'direction', h: number): Float64Array {
  const out = new Float64Array(close.length).fill(NaN);
  for (let t = 0; t + h < close.length; t++) {
    const a = close[t]!;
    const b = close[t + h]!;
    if (!(a > 0 && b > 0)) continue;
    out[t] = kind === 'direction' ? (b > a ? 1 : 0) : Math.log(b / a);
  }
  return out;
}

export function buildDataset(columns: Columns, data: TrainOptions['data'], horizonOf: (v: number | string, path: string) => number, source: string): Dataset {
  const close = columns.close;
  if (!close) {
    throw dataInvalid(`the series ${source} has no "close" column (columns: ${Object.keys(columns).join(', ') || 'none'})`, 'The trainer needs at least a close column.');
  }
  const rows = close.length;
  const feats = featureColumns(columns, data.features, source);
  const [labelKind, labelValue] = Object.entries(data.label)[0] as ['forwardReturn' | 'direction', number | string];
  const horizon = horizonOf(labelValue, `data.label.${labelKind}`);
  const label = labelColumn(close, labelKind, horizon);
  const F = feats.length;
  const W = data.window;

  // A bar can end a sample when all features of its window are finite and its label is.
  const idx: number[] = [];
  let run = 0;
  for (let t = 0; t < rows; t++) {
    let ok = true;
    for (let f = 0; f < F; f++) {
      if (!Number.isFinite(feats[f]!.values[t]!)) {
        ok = false;
        break;
      }
    }
    run = ok ? run + 1 : 0;
    if (run >= W && Number.isFinite(label[t]!)) idx.push(t);
  }
  const n = idx.length;
  const lookback = Math.max(0, ...feats.map((f) => f.lookback)) + W - 1;
  if (n < 4) {
    throw dataInvalid(
      `the series ${source} has ${rows} bars but gives only ${n} samples: features need ${lookback} bars of history and the label ${horizon} bars ahead`,
      'Use a longer series, shorter feature periods, a smaller window or a shorter horizon.',
    );
  }
  const nVal = data.split.val > 0 ? Math.max(1, Math.round(n * data.split.val)) : 0;
  const gap = nVal === 0 ? 0 : data.split.gap === 'auto' ? horizon : data.split.gap;
  const nTrain = n - nVal - gap;
  if (nTrain < 2) {
    throw dataInvalid(
      `the series ${source} gives ${n} samples; with split.val ${data.split.val} (${nVal} samples) and a gap of ${gap}, ${Math.max(0, nTrain)} are left to train on`,
      'Use a longer series or a smaller split.val / split.gap.',
    );
  }
  const trainIdx = idx.slice(0, nTrain);
  const valIdx = idx.slice(n - nVal);

  const center = new Array<number>(F).fill(0);
  const scale = new Array<number>(F).fill(1);
  if (data.normalise !== 'none') {
    for (let f = 0; f < F; f++) {
      const v = feats[f]!.values;
      if (data.normalise === 'zscore') {
        let mean = 0;
        for (const t of trainIdx) mean += v[t]!;
        mean /= trainIdx.length;
        let ss = 0;
        for (const t of trainIdx) ss += (v[t]! - mean) ** 2;
        const std = Math.sqrt(ss / trainIdx.length);
        center[f] = mean;
        scale[f] = std > 1e-12 ? std : 1;
      } else {
        let lo = Infinity;
        let hi = -Infinity;
        for (const t of trainIdx) {
          lo = Math.min(lo, v[t]!);
          hi = Math.max(hi, v[t]!);
        }
        center[f] = lo;
        scale[f] = hi - lo > 1e-12 ? hi - lo : 1;
      }
    }
  }
  const time = columns.time;
  const fill = (which: number[]): Split => {
    const x = new Float32Array(which.length * W * F);
    const y = new Float32Array(which.length);
    const times = new Float64Array(which.length);
    for (let s = 0; s < which.length; s++) {
      const t = which[s]!;
      let o = s * W * F;
      for (let w = 0; w < W; w++) {
        const row = t - W + 1 + w;
        for (let f = 0; f < F; f++) x[o++] = (feats[f]!.values[row]! - center[f]!) / scale[f]!;
      }
      y[s] = label[t]!;
      times[s] = time ? time[t]! : t;
    }
    return { x, y, n: which.length, times };
  };
  const train = fill(trainIdx);
  const val = fill(valIdx);
  const features = feats.map((f) => f.name);
  return {
    train,
    val,
    features,
    window: W,
    rows,
    dropped: rows - n,
    normaliser: {
      format: 'runner-train-normaliser',
      version: 1,
      method: data.normalise,
      features,
      specs: data.features,
      center,
      scale,
      window: W,
      label: { kind: labelKind, horizon },
      lookback,
      trainSamples: train.n,
      valSamples: val.n,
      gap,
      trainEnd: train.times[train.n - 1],
      valStart: val.n > 0 ? val.times[0] : undefined,
      dataEnd: time ? time[idx[n - 1]! + horizon] : idx[n - 1]! + horizon,
    },
  };
}

/**
 * Builds normalised inputs for inference with a saved normaliser: one sample per bar that has a
 * full window of finite features (labels are not needed). Returns the samples and the bar index
 * each one ends at.
 */
export function inferenceInputs(columns: Columns, normaliser: Normaliser, source = 'series'): { x: Float32Array; n: number; rows: Int32Array; shape: number[] } {
  const feats = featureColumns(columns, normaliser.specs, source);
  const names = feats.map((f) => f.name);
  if (names.join() !== normaliser.features.join()) {
    throw dataInvalid(`the normaliser lists features ${normaliser.features.join(', ')} but its specs give ${names.join(', ')}`, 'Use the normaliser.json written with the model.');
  }
  const F = feats.length;
  const W = normaliser.window;
  const rows = columns.close?.length ?? 0;
  const ends: number[] = [];
  let run = 0;
  for (let t = 0; t < rows; t++) {
    let ok = true;
    for (let f = 0; f < F && ok; f++) ok = Number.isFinite(feats[f]!.values[t]!);
    run = ok ? run + 1 : 0;
    if (run >= W) ends.push(t);
  }
  const x = new Float32Array(ends.length * W * F);
  let o = 0;
  for (const t of ends) {
    for (let w = 0; w < W; w++) {
      const row = t - W + 1 + w;
      for (let f = 0; f < F; f++) x[o++] = (feats[f]!.values[row]! - normaliser.center[f]!) / normaliser.scale[f]!;
    }
  }
  return { x, n: ends.length, rows: Int32Array.from(ends), shape: W > 1 ? [ends.length, W, F] : [ends.length, F] };
}
