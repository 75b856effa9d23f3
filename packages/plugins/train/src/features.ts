/**
 * A small feature library over columnar OHLCV data. Every function returns a Float64Array as
 * long as its input, with NaN where the value is not defined yet (the first bars of a window) or
 * where an input is not finite. Definitions follow the usual conventions (pandas rolling windows,
 * Wilder's RSI) and are checked against hand-computed values in features.test.ts.
 */

/** ln(x[t] / x[t - k]). */
export function logReturn(x: ArrayLike<number>, k: number): Float64Array {
  const out = new Float64Array(x.length).fill(NaN);
  for (let t = k; t < x.length; t++) {
    const a = x[t - k]!;
    const b = x[t]!;
    if (a > 0 && b > 0) out[t] = Math.log(b / a);
  }
  return out;
}

/** Simple moving average over the last n values (including t). */
export function sma(x: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(x.length).fill(NaN);
  let sum = 0;
  let bad = 0;
  for (let t = 0; t < x.length; t++) {
    const v = x[t]!;
    if (Number.isFinite(v)) sum += v;
    else bad++;
    if (t >= n) {
      const old = x[t - n]!;
      if (Number.isFinite(old)) sum -= old;
      else bad--;
    }
    if (t >= n - 1 && bad === 0) out[t] = sum / n;
  }
  return out;
}

/** Sample standard deviation (ddof = 1, like pandas) over the last n values. */
export function rollingStd(x: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(x.length).fill(NaN);
  if (n < 2) return out;
  for (let t = n - 1; t < x.length; t++) {
    let mean = 0;
    let ok = true;
    for (let i = t - n + 1; i <= t; i++) {
      const v = x[i]!;
      if (!Number.isFinite(v)) {
        ok = false;
        break;
      }
      mean += v;
    }
    if (!ok) continue;
    mean /= n;
    let ss = 0;
    for (let i = t - n + 1; i <= t; i++) ss += (x[i]! - mean) ** 2;
    out[t] = Math.sqrt(ss / (n - 1));
  }
  return out;
}

/** Exponential moving average with alpha = 2 / (n + 1), started from the SMA of the first n values. */
export function ema(x: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(x.length).fill(NaN);
  const alpha = 2 / (n + 1);
  let prev = NaN;
  let start = 0;
  for (let t = 0; t < x.length; t++) {
    const v = x[t]!;
    if (!Number.isFinite(v)) {
      prev = NaN;
      start = t + 1;
      continue;
    }
    if (Number.isNaN(prev)) {
      if (t - start + 1 === n) {
        let s = 0;
        for (let i = start; i <= t; i++) s += x[i]!;
        prev = s / n;
        out[t] = prev;
      }
      continue;
    }
    prev = alpha * v + (1 - alpha) * prev;
    out[t] = prev;
  }
  return out;
}

/**
 * Wilder's RSI: the first average gain and loss are simple means of the first n changes, then
 * avg = (avg × (n - 1) + current) / n. 100 when there were no losses.
 */
export function rsi(close: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(close.length).fill(NaN);
  let gain = 0;
  let loss = 0;
  let count = 0;
  for (let t = 1; t < close.length; t++) {
    const d = close[t]! - close[t - 1]!;
    if (!Number.isFinite(d)) {
      gain = loss = count = 0;
      continue;
    }
    const g = d > 0 ? d : 0;
    const l = d < 0 ? -d : 0;
    if (count < n) {
      gain += g;
      loss += l;
      count++;
      if (count < n) continue;
      gain /= n;
      loss /= n;
    } else {
      gain = (gain * (n - 1) + g) / n;
      loss = (loss * (n - 1) + l) / n;
    }
    out[t] = loss === 0 ? 100 : 100 - 100 / (1 + gain / loss);
  }
  return out;
}

/** x[t] / avg[t] - 1. */
export function ratio(x: ArrayLike<number>, avg: Float64Array): Float64Array {
  const out = new Float64Array(x.length).fill(NaN);
  for (let t = 0; t < x.length; t++) {
    const a = avg[t]!;
    if (Number.isFinite(a) && a !== 0) out[t] = x[t]! / a - 1;
  }
  return out;
}

/** (v[t] - mean) / std over the last n values of v (ddof = 1); 0 when the window is flat. */
export function zScore(v: ArrayLike<number>, n: number): Float64Array {
  const mean = sma(v, n);
  const std = rollingStd(v, n);
  const out = new Float64Array(v.length).fill(NaN);
  for (let t = 0; t < v.length; t++) {
    const m = mean[t]!;
    const s = std[t]!;
    if (!Number.isFinite(m) || !Number.isFinite(s)) continue;
    out[t] = s > 0 ? (v[t]! - m) / s : 0;
  }
  return out;
}

export interface Ohlcv {
  open: ArrayLike<number>;
  high: ArrayLike<number>;
  low: ArrayLike<number>;
  close: ArrayLike<number>;
  volume: ArrayLike<number>;
}

/** One named feature column. */
export interface FeatureColumn {
  name: string;
  values: Float64Array;
  /** Bars of history the feature needs before its first defined value. */
  lookback: number;
}

/** Computes feature `kind` with period `n` (the names match the YAML: returns_5, rsi_14, ...). */
export function computeFeature(kind: string, n: number, s: Ohlcv): FeatureColumn {
  const name = `${kind}_${n}`;
  switch (kind) {
    case 'returns':
      return { name, values: logReturn(s.close, n), lookback: n };
    case 'smaRatio':
      return { name, values: ratio(s.close, sma(s.close, n)), lookback: n - 1 };
    case 'emaRatio':
      return { name, values: ratio(s.close, ema(s.close, n)), lookback: n - 1 };
    case 'rsi':
      return { name, values: rsi(s.close, n), lookback: n };
    case 'volatility':
      return { name, values: rollingStd(logReturn(s.close, 1), n), lookback: n };
    case 'volumeZ':
      return { name, values: zScore(s.volume, n), lookback: n - 1 };
    case 'range': {
      const hl = new Float64Array(s.close.length);
      for (let t = 0; t < hl.length; t++) hl[t] = s.close[t]! > 0 ? (s.high[t]! - s.low[t]!) / s.close[t]! : NaN;
      return { name, values: sma(hl, n), lookback: n - 1 };
    }
    default:
      throw new Error(`unknown feature kind "${kind}"`);
  }
}
