/**
 * The model strategy's signal: the upstream trainer's model, run as batched predictions over the
 * features the trainer used, built with its saved normaliser (`@runner/plugin-train/inference`).
 * Prediction k belongs to the bar its input window ends at, so it uses only that bar and earlier
 * ones. Also reports where the model's training and validation data end, for the look-ahead
 * guard.
 */
import type { TaskContext, UpstreamTask } from '@runner/core';
import { configError, featuresError } from '../errors.js';
import type { BacktestOptions } from '../schema.js';
import type { LoadedSeries } from '../data/series.js';

interface TrainResultLike {
  model: { final: string; best: string };
  normaliser: string;
  features: string[];
}

export interface ModelSignal {
  signal: Float64Array;
  /** Time of the last bar the training or validation data used (labels included). */
  dataEnd: number;
  /** True when the normaliser predates `dataEnd` and the end was estimated from `valStart`/`trainEnd`. */
  estimated: boolean;
  trainTask: string;
  features: string[];
  predictions: number;
}

export function trainUpstream(ctx: TaskContext<BacktestOptions>, where: string): UpstreamTask<TrainResultLike> {
  const from = ctx.options.strategy.from!;
  const up = ctx.upstream[from];
  const stages = Object.keys(ctx.upstream);
  if (!up) throw configError(where, `strategy.from is "${from}" but this task has no completed upstream stage "${from}" (upstream: ${stages.join(', ') || 'none'})`, `Add "${from}" to the stage's needs`);
  if (Array.isArray(up)) throw configError(where, `strategy.from "${from}" has ${up.length} tasks for this cell`, `Give "${from}" the same or fewer per keys than the backtest stage`);
  const r = up.result as Partial<TrainResultLike> | null;
  if (!r || typeof r.normaliser !== 'string' || !r.model) throw configError(where, `the result of ${up.id} is not a trained model (no model/normaliser)`, 'strategy.from must name a stage of the train plugin');
  return up as UpstreamTask<TrainResultLike>;
}

export async function modelSignal(ctx: TaskContext<BacktestOptions>, series: LoadedSeries, where: string): Promise<ModelSignal> {
  const up = trainUpstream(ctx, where);
  const { loadTrained, inferenceInputs } = await import('@runner/plugin-train/inference');
  const { tf, model, normaliser } = await loadTrained(up.result, { which: ctx.options.strategy.which });
  if (up.result.features && normaliser.features.join() !== up.result.features.join()) {
    throw featuresError(where, up.result.normaliser, `the normaliser lists features ${normaliser.features.join(', ')} but ${up.id} trained on ${up.result.features.join(', ')}`, 'Retrain, or point strategy.from at the train stage that wrote this model');
  }
  let inputs: ReturnType<typeof inferenceInputs>;
  try {
    inputs = inferenceInputs(series.columns, normaliser, series.file);
  } catch (err) {
    const missing = /no "?([a-z_0-9]+)"? column/i.exec((err as Error).message)?.[1];
    throw featuresError(
      where,
      series.file,
      `the model's features (${normaliser.features.join(', ')}) cannot be built from this series${missing ? `: column ${missing} is missing` : ''}: ${(err as Error).message}`,
      `Backtest on a series with the columns the model was trained on (it has ${Object.keys(series.columns).join(', ')})`,
    );
  }
  const signal = new Float64Array(series.rows).fill(NaN);
  const per = inputs.shape.slice(1).reduce((a, b) => a * b, 1);
  const batch = ctx.options.strategy.batchSize;
  for (let b = 0; b < inputs.n; b += batch) {
    const m = Math.min(batch, inputs.n - b);
    const x = tf.tensor(inputs.x.subarray(b * per, (b + m) * per), [m, ...inputs.shape.slice(1)]);
    const y = model.predict(x) as import('@tensorflow/tfjs-core').Tensor;
    const preds = y.dataSync();
    x.dispose();
    y.dispose();
    for (let k = 0; k < m; k++) signal[inputs.rows[b + k]!] = preds[k]!;
  }
  model.dispose();
  let dataEnd = normaliser.dataEnd;
  let estimated = false;
  if (dataEnd === undefined) {
    estimated = true;
    dataEnd = Math.max(normaliser.trainEnd ?? -Infinity, normaliser.valStart ?? -Infinity);
    ctx.log.warn(`${up.id}: its normaliser does not record where its data ends (trained by an older version); trading only after ${new Date(dataEnd).toISOString()}, the last sample time it records. Retrain for the exact end`);
  }
  return { signal, dataEnd, estimated, trainTask: up.id, features: normaliser.features, predictions: inputs.n };
}
