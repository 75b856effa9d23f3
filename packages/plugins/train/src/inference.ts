/**
 * For later stages (backtest, paper trading): load a model the trainer saved and build its inputs
 * from a series with the saved normaliser, exactly as in training.
 *
 * @example
 * ```ts
 * import { loadTrained, inferenceInputs } from '@runner/plugin-train/inference';
 * const { model, normaliser, tf } = await loadTrained(ctx.upstream.train.result);
 * const { x, shape, rows } = inferenceInputs(series.columns, normaliser);
 * const pred = model.predict(tf.tensor(x, shape));
 * ```
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadTf, selectBackend, type TF } from './backend.js';
import type { Normaliser } from './dataset.js';
import type { BackendName } from './schema.js';
import type { LayersModel } from './tf-types.js';

export { inferenceInputs, type Normaliser } from './dataset.js';
export { loadTf, selectBackend, type TF } from './backend.js';

/** Loads a model directory written by the trainer (model.json + weights.bin) on the current backend. */
export async function loadModel(dir: string, tf?: TF): Promise<LayersModel> {
  tf ??= await loadTf();
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: unknown[] }[];
  };
  const buffers = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(join(dir, p))));
  const bytes = Buffer.concat(buffers);
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as never,
      weightData,
    }),
  );
}

/**
 * Loads the trainer's result: the final (or best) model and its normaliser, on the given backend
 * (default cpu, which is always available and exact).
 */
export async function loadTrained(
  result: { model: { final: string; best: string }; normaliser: string },
  options: { which?: 'final' | 'best'; backend?: BackendName } = {},
): Promise<{ tf: TF; model: LayersModel; normaliser: Normaliser }> {
  const tf = await loadTf();
  await selectBackend(tf, options.backend ?? 'cpu', { gpuAllowGrowth: true });
  const model = await loadModel(result.model[options.which ?? 'final'], tf);
  const normaliser = JSON.parse(await readFile(result.normaliser, 'utf8')) as Normaliser;
  return { tf, model, normaliser };
}
