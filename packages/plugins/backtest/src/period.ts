/**
 * Which bars trade, and the look-ahead guard: a model strategy trades only bars after its
 * training and validation data unless the spec says `allowInSample: true`.
 */
import { periodError } from './errors.js';
import type { BacktestOptions } from './schema.js';
import { iso } from './data/series.js';

export interface Period {
  /** Rows [from, to) trade; rows [warmFrom, from) only warm the strategy up. */
  from: number;
  to: number;
  warmFrom: number;
  /** True when the traded bars overlap the model's training or validation data (allowed explicitly). */
  inSample: boolean;
  /** What the period is, in words, for logs and the report. */
  describe: string;
}

/** First index with t[i] > x. */
function upperBound(t: Float64Array, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (t[m]! <= x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** First index with t[i] >= x. */
function lowerBound(t: Float64Array, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (t[m]! < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

export function resolvePeriod(time: Float64Array, options: BacktestOptions, warmup: number, where: string, model?: { dataEnd: number; trainTask: string }): Period {
  const p = options.period ?? (model ? { after: 'training' as const } : {});
  const rows = time.length;
  let from = 0;
  let to = rows;
  let describe = 'the whole series';
  let inSample = false;
  if (p.after === 'training') {
    if (!model) throw periodError(where, 'period.after: training needs a model strategy', 'Use period.start/end');
    from = upperBound(time, model.dataEnd);
    describe = `after ${model.trainTask}'s training and validation data (which end ${iso(model.dataEnd)})`;
    if (from >= rows) {
      throw periodError(
        where,
        `no bars after the training split: the series ends ${iso(time[rows - 1]!)} and ${model.trainTask}'s training and validation data end ${iso(model.dataEnd)}`,
        'Backtest on a series that extends past the training data (a later or longer download for data.from), or set period: { start, end } with allowInSample: true to look at in-sample bars',
      );
    }
  } else {
    if (p.start) from = lowerBound(time, Date.parse(p.start));
    if (p.end) to = lowerBound(time, Date.parse(p.end));
    if (p.start || p.end) describe = `${p.start ?? 'start'} to ${p.end ?? 'end'}`;
    if (from >= to) {
      throw periodError(where, `the period ${describe} has no bars (the series runs ${iso(time[0]!)} to ${iso(time[rows - 1]!)})`, 'Set period.start/end inside the series');
    }
    if (model && time[from]! <= model.dataEnd) {
      if (!options.allowInSample) {
        throw periodError(
          where,
          `the period ${describe} starts ${iso(time[from]!)}, inside ${model.trainTask}'s training and validation data (which end ${iso(model.dataEnd)}): that would judge the model on bars it was fitted to`,
          'Remove period to trade only later bars (the default), start it after the training data, or set allowInSample: true to accept an in-sample result',
        );
      }
      inSample = true;
    }
  }
  return { from, to, warmFrom: Math.max(0, from - warmup), inSample, describe };
}
