/**
 * One training task, start to finish: effective options (with an HPO stage's best parameters),
 * the series and its samples, the backend, the model, the loop with its checkpoints, and the
 * outputs later stages load. Loaded lazily by the plugin's run(), so that importing the plugin
 * does not load TensorFlow.js.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { applyParams, validateOptions, writeFileAtomic, type TaskContext, type UpstreamTask } from '@runner/core';
import { readSeries } from '@runner/core/series';
import { loadTf, selectBackend, type TF } from './backend.js';
import { buildDataset, resolveHorizon, type Columns, type Dataset } from './dataset.js';
import { dataInvalid, modelInvalid, optionsInvalid, upstreamMissing } from './errors.js';
import { buildLayersModel, checkCustomModel, createOptimizer, learningRateOf, loadBuildModel, optimizerName, type BuildModelInfo } from './model.js';
import { saveHistory, saveModel } from './outputs.js';
import { LOSSES, RESUME_SAFE, schema, type TrainOptions } from './schema.js';
import { withSeededRandom } from './seed.js';
import { restoreWeights } from './state.js';
import { syntheticSeries } from './synthetic.js';
import type { LayersModel, Optimizer, Scalar, Tensor, Variable } from './tf-types.js';
import { Trainer, type TrainState } from './trainer.js';

export interface TrainResult {
  /**
   * Metrics of the model handed over as `model.final`: the best epoch's when
   * earlyStopping.restoreBest applied, else the last epoch's. Plus best_val_loss (lowest
   * val_loss of any epoch) and best_epoch (the epoch saved as model.best).
   */
  metrics: Record<string, number>;
  /** Epochs completed. */
  epochs: number;
  stoppedEarly: boolean;
  /** Whether model.final holds the best epoch's weights (earlyStopping.restoreBest). */
  restoredBest: boolean;
  backend: string;
  /** Set when the requested backend could not train this model and another one did. */
  backendFallback?: string;
  tfjsVersion: string;
  /** Directories in the TF.js layers format (model.json + weights.bin), and the sha256 of their weights. */
  model: { final: string; best: string; sha256: { final: string; best: string } };
  normaliser: string;
  history: string;
  historyCsv: string;
  samples: { train: number; val: number };
  features: string[];
  inputShape: number[];
  /** Trainable parameters. */
  params: number;
  /** Best parameters taken from an upstream HPO stage, and the task they came from. */
  bestParams?: Record<string, unknown>;
  bestParamsFrom?: string;
  /** Where this attempt resumed from, if it did, and how long loading and restoring the checkpoint took. */
  resumedFrom?: { type: string; epoch: number; batch: number; loadMs: number; restoreMs: number };
  /** Seconds in the training loop of this attempt (checkpoints included), and its throughput. */
  trainSeconds: number;
  samplesPerSecond: number;
  /** Seconds of the whole attempt: data, model, training, outputs. */
  seconds: number;
  /**
   * Checkpoints saved by this attempt: how many, their total time in ms, the size of the last;
   * and the total time of the per-epoch snapshots kept in memory for a failure checkpoint.
   */
  checkpointing: { saves: number; saveMs: number; snapshotMs: number; bytes: number };
}

export async function runTrain(ctx: TaskContext<TrainOptions>): Promise<TrainResult> {
  const t0 = performance.now();
  const { options, bestParams, bestParamsFrom } = effectiveOptions(ctx);
  const { columns, source } = await loadSeries(ctx, options);
  const data = buildDataset(columns, options.data, (v, path) => resolveHorizon(v, ctx.task.cell, path), source);
  checkMonitors(options, data);
  ctx.log.info(
    `${source}: ${data.rows} bars -> ${data.train.n} training and ${data.val.n} validation samples of ${data.features.length} features` +
      `${data.window > 1 ? ` x ${data.window} bars` : ''}; label ${data.normaliser.label.kind} over ${data.normaliser.label.horizon} bars`,
  );
  ctx.signal.throwIfAborted();

  const tf = await loadTf();
  const choice = await selectBackend(tf, options.backend, { gpuAllowGrowth: options.gpuAllowGrowth });
  for (const n of choice.notes) ctx.log.debug(`backend ${n}`);
  let backend: string = choice.name;
  let backendFallback: string | undefined;
  const tfjsVersion = tf.version_core;
  const inputShape = data.window > 1 ? [data.window, data.features.length] : [data.features.length];
  const info: BuildModelInfo = { inputShape, outputUnits: 1, seed: options.seed, features: data.features };

  let model: LayersModel | undefined;
  let optimizer: Optimizer | undefined;
  const tensors: Tensor[] = [];
  try {
    ({ model, optimizer } = await buildCompiled(tf, options, info, data.window));
    if (backend === 'wasm') {
      const missing = missingGradientKernel(tf, model, inputShape);
      if (missing) {
        backendFallback = `wasm has no ${missing} kernel (needed to train ${missingFor(missing)}); trained on cpu`;
        ctx.log.warn(`backend wasm cannot train this model: it has no ${missing} kernel (${missingFor(missing)}); falling back to cpu`);
        model.dispose();
        optimizer.dispose();
        model = optimizer = undefined;
        await selectBackend(tf, 'cpu', { gpuAllowGrowth: false });
        backend = 'cpu';
        ({ model, optimizer } = await buildCompiled(tf, options, info, data.window));
      }
    }
    ctx.log.info(`backend ${backend} (tfjs ${tfjsVersion}), ${countParams(model)} trainable parameters, ${optimizerName(options.optimizer)} lr ${learningRateOf(options.optimizer)}`);

    let xVal: Tensor | undefined;
    let yVal: Tensor | undefined;
    if (data.val.n > 0) {
      xVal = tf.tensor(data.val.x, [data.val.n, ...inputShape], 'float32');
      yVal = tf.tensor2d(data.val.y, [data.val.n, 1], 'float32');
      tensors.push(xVal, yVal);
    }

    const epochs = options.epochs;
    const trainer = new Trainer({
      tf,
      model,
      optimizer,
      data: { xTrain: data.train.x, yTrain: data.train.y, inputShape, xVal, yVal, nTrain: data.train.n },
      options,
      backend,
      dataHash: dataDigest(data),
      optionsHash: optionsDigest(options),
      hooks: {
        signal: ctx.signal,
        batchProgress: (step, batch, batches) =>
          ctx.progress({ step, total: epochs, unit: 'epoch', ...(batch !== undefined && batches ? { inner: { step: batch, total: batches, unit: 'batch' } } : {}) }),
        epochEnd: (r) => {
          ctx.progress({ step: r.epoch, total: epochs, unit: 'epoch', metrics: r.metrics });
          ctx.emit('epoch', { epoch: r.epoch, epochs, metrics: r.metrics, lr: r.lr, seconds: r.seconds, memory: r.memory });
          ctx.log.debug(`epoch ${r.epoch}/${epochs} ${Object.entries(r.metrics).map(([k, v]) => `${k}=${v.toPrecision(5)}`).join(' ')} (${r.seconds.toFixed(2)} s)`);
        },
        checkpoint: async (state, type, step, metrics) => (await ctx.checkpoint.save(state, { step, total: epochs, type, metrics })).size,
        log: (level, message) => ctx.log[level](message),
      },
    });
    trainer.initialState(learningRateOf(options.optimizer), tfjsVersion);

    let resumedFrom: TrainResult['resumedFrom'];
    const tLoad = performance.now();
    const loaded = await ctx.checkpoint.load<TrainState>();
    const loadMs = performance.now() - tLoad;
    if (loaded) {
      const tRestore = performance.now();
      const why = await trainer.restore(loaded.state);
      const restoreMs = performance.now() - tRestore;
      if (why) ctx.log.warn(`not resuming from ${loaded.type} checkpoint #${loaded.seq} (step ${loaded.step}): ${why}; training from the start`);
      else {
        const st = loaded.state;
        resumedFrom = { type: loaded.type, epoch: st.epoch, batch: st.batch, loadMs: round2(loadMs), restoreMs: round2(restoreMs) };
        ctx.log.info(`resuming from ${loaded.type} checkpoint #${loaded.seq}: epoch ${st.epoch}${st.batch > 0 ? `, batch ${st.batch}` : ''} done`);
        if (st.backend !== backend) ctx.log.warn(`the checkpoint was written on backend ${st.backend}, training goes on on ${backend}: the result will not be bit-identical to an uninterrupted run`);
        if (st.stoppedEarly && st.epoch < epochs) ctx.log.info(`training stopped early at epoch ${st.epoch}; a larger epochs does not resume it (change earlyStopping to train on)`);
        else if (st.epoch > epochs) ctx.log.warn(`the checkpoint is at epoch ${st.epoch}, beyond epochs ${epochs}; keeping the model of epoch ${st.epoch}`);
        // The epochs this checkpoint already holds, once more and marked as a replay: a parent that
        // missed one (a kill between this checkpoint and the parent recording the epoch's value,
        // e.g. an hpo trial) records it now; one that has it ignores it.
        for (const e of replayEpochs(st.history)) ctx.emit('epoch', { epoch: e.epoch, epochs, metrics: e.metrics, lr: e.metrics.lr, replay: true });
      }
    }

    const tTrain = performance.now();
    await trainer.run();
    await trainer.saveFinal();
    const trainSeconds = (performance.now() - tTrain) / 1000;
    const samplesTrained = trainer.samplesSeen;

    const st = trainer.current;
    trainer.clearSeeds();
    const dir = ctx.artifactDir;
    const restoreBest = !!options.earlyStopping?.restoreBest && !!st.bestWeights && st.best.epoch > 0;
    if (restoreBest) mustRestore(tf, model, st.bestWeights!);
    const final = await saveModel(tf, model, join(dir, 'model', 'final'));
    // model/best: the best epoch's weights (the final ones when no epoch was better).
    if (!restoreBest && st.bestWeights && st.best.epoch !== st.epoch) mustRestore(tf, model, st.bestWeights);
    const best = await saveModel(tf, model, join(dir, 'model', 'best'));
    const normaliserPath = join(dir, 'normaliser.json');
    await writeFileAtomic(normaliserPath, JSON.stringify(data.normaliser, null, 2));
    const hist = await saveHistory(dir, st.history);

    const handed = restoreBest ? st.best.epoch : st.epoch;
    const metrics: Record<string, number> = {};
    for (const [k, values] of Object.entries(st.history)) {
      if (k === 'epoch' || k === 'lr') continue;
      const v = values[handed - 1];
      if (v !== undefined) metrics[k] = v;
    }
    const valLosses = st.history.val_loss;
    if (valLosses && valLosses.length > 0) metrics.best_val_loss = Math.min(...valLosses.filter((v) => !Number.isNaN(v)));
    metrics.best_epoch = st.best.epoch;
    ctx.log.info(
      `done: ${st.epoch} epochs${st.stoppedEarly ? ' (stopped early)' : ''} in ${trainSeconds.toFixed(1)} s; ` +
        `${restoreBest ? `restored the best epoch ${st.best.epoch}; ` : ''}${Object.entries(metrics).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(5)}`).join(' ')}`,
    );
    return {
      metrics,
      epochs: st.epoch,
      stoppedEarly: st.stoppedEarly,
      restoredBest: restoreBest,
      backend,
      ...(backendFallback ? { backendFallback } : {}),
      tfjsVersion,
      model: { final: final.dir, best: best.dir, sha256: { final: final.sha256, best: best.sha256 } },
      normaliser: normaliserPath,
      history: hist.json,
      historyCsv: hist.csv,
      samples: { train: data.train.n, val: data.val.n },
      features: data.features,
      inputShape,
      params: countParams(model),
      ...(bestParams ? { bestParams, bestParamsFrom } : {}),
      ...(resumedFrom ? { resumedFrom } : {}),
      trainSeconds: round2(trainSeconds),
      samplesPerSecond: Math.round(samplesTrained / trainSeconds),
      seconds: round2((performance.now() - t0) / 1000),
      checkpointing: {
        saves: trainer.stats.saves,
        saveMs: round2(trainer.stats.saveMs),
        snapshotMs: round2(trainer.stats.snapshotMs),
        bytes: trainer.stats.lastBytes,
      },
    };
  } finally {
    tf.dispose(tensors);
    optimizer?.dispose();
    model?.dispose();
  }
}

/** The task's options with an upstream HPO stage's best parameters applied, validated again. */
export function effectiveOptions(ctx: Pick<TaskContext<TrainOptions>, 'options' | 'upstream'>): {
  options: TrainOptions;
  bestParams?: Record<string, unknown>;
  bestParamsFrom?: string;
} {
  let opts = structuredClone(ctx.options) as unknown as Record<string, unknown>;
  const sources: { id: string; params: Record<string, unknown> }[] = [];
  for (const up of Object.values(ctx.upstream)) {
    for (const u of (Array.isArray(up) ? up : [up]) as UpstreamTask[]) {
      const bp = (u.result as { bestParams?: unknown } | null)?.bestParams;
      if (bp && typeof bp === 'object' && !Array.isArray(bp)) sources.push({ id: u.id, params: bp as Record<string, unknown> });
    }
  }
  if (sources.length > 1) {
    throw optionsInvalid(`several upstream tasks offer bestParams (${sources.map((s) => s.id).join(', ')})`, 'Let the train stage need one HPO stage per cell.');
  }
  const src = sources[0];
  if (src) opts = applyParams(opts, src.params);
  const from = src ? ` after applying the best parameters of ${src.id} (${JSON.stringify(src.params)})` : '';
  const left = placeholders(opts);
  if (left.length > 0) {
    throw optionsInvalid(
      `${left[0]!.path} is still "${left[0]!.value}"${from}${left.length > 1 ? ` (and ${left.length - 1} more placeholders)` : ''}`,
      '${params.NAME} placeholders are filled by HPO trials (runChild params) or by the bestParams of an HPO stage this stage needs; add that stage to needs or replace the placeholder by a value.',
    );
  }
  const issues = validateOptions(schema, opts);
  if (issues.length > 0) {
    throw optionsInvalid(
      `the options are invalid${from}: ${issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`,
      src ? 'HPO parameter names are dotted option paths (e.g. optimizer.adam.lr) or ${params.NAME} placeholders; see docs/train.md#hpo-parameters.' : 'Fix the stage options.',
    );
  }
  return { options: opts as unknown as TrainOptions, ...(src ? { bestParams: src.params, bestParamsFrom: src.id } : {}) };
}

function placeholders(v: unknown, path: (string | number)[] = []): { path: string; value: string }[] {
  if (typeof v === 'string') return v.includes('${params.') ? [{ path: formatPath(path), value: v }] : [];
  if (Array.isArray(v)) return v.flatMap((x, i) => placeholders(x, [...path, i]));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => placeholders(x, [...path, k]));
  return [];
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(options)';
}

async function loadSeries(ctx: TaskContext<TrainOptions>, options: TrainOptions): Promise<{ columns: Columns; source: string }> {
  const d = options.data;
  if (d.synthetic) {
    return { columns: syntheticSeries(d.synthetic.rows, d.synthetic.seed) as unknown as Columns, source: `synthetic series (seed ${d.synthetic.seed})` };
  }
  let file: string;
  if (d.file) file = resolve(d.file);
  else {
    const up = ctx.upstream[d.from];
    const stages = Object.keys(ctx.upstream);
    if (!up) {
      throw upstreamMissing(
        `data.from is "${d.from}" but this task has no completed upstream stage "${d.from}" (upstream: ${stages.join(', ') || 'none'})`,
        stages.length > 0 ? `Set data.from to one of ${stages.join(', ')}, or add "${d.from}" to the stage's needs.` : `Add "${d.from}" to the stage's needs, or set data.file or data.synthetic.`,
      );
    }
    if (Array.isArray(up)) {
      throw upstreamMissing(
        `data.from "${d.from}" has ${up.length} tasks for this cell (it runs over more matrix keys than the train stage)`,
        `Give "${d.from}" the same or fewer per keys than the train stage, so that each cell has one series.`,
      );
    }
    const f = (up.result as { file?: unknown } | null)?.file;
    if (typeof f !== 'string') {
      throw upstreamMissing(
        `the result of ${up.id} has no "file" (result keys: ${Object.keys((up.result as object) ?? {}).join(', ') || 'none'})`,
        `data.from must name a stage whose result has file: the path of an Arrow series (the download plugin's does).`,
      );
    }
    file = f;
  }
  try {
    const s = await readSeries(file);
    return { columns: s.columns as Columns, source: file };
  } catch (err) {
    throw dataInvalid(`cannot read the series ${file}: ${(err as Error).message}`, 'It must be an Arrow IPC file with numeric time, open, high, low, close and volume columns (as @runner/core/series writes).');
  }
}

function checkMonitors(options: TrainOptions, data: Dataset): void {
  for (const [key, spec] of [
    ['earlyStopping', options.earlyStopping],
    ['reduceLrOnPlateau', options.reduceLrOnPlateau],
  ] as const) {
    if (!spec) continue;
    const known = ['loss', ...options.metrics, ...(data.val.n > 0 ? ['val_loss', ...options.metrics.map((m) => `val_${m}`)] : [])];
    if (!known.includes(spec.monitor)) {
      throw optionsInvalid(
        `${key}.monitor is "${spec.monitor}" but the reported values are ${known.join(', ')}`,
        spec.monitor.startsWith('val_') && data.val.n === 0 ? 'Set data.split.val > 0 to get validation values, or monitor loss.' : 'Monitor one of the reported values; add metrics to get more.',
      );
    }
  }
}

async function buildCompiled(tf: TF, options: TrainOptions, info: BuildModelInfo, window: number): Promise<{ model: LayersModel; optimizer: Optimizer }> {
  const model = await withSeededRandom(options.seed, async () => {
    if (options.model.plugin) {
      const build = await loadBuildModel(options.model.plugin);
      let m: LayersModel;
      try {
        m = await build(tf, options.model.params, info);
      } catch (err) {
        throw modelInvalid(`model.plugin ${options.model.plugin}: buildModel failed: ${(err as Error).message}`, 'Fix the module; it gets (tf, params, { inputShape, outputUnits, seed, features }).', err);
      }
      if (!m || typeof (m as { compile?: unknown }).compile !== 'function') {
        throw modelInvalid(`model.plugin ${options.model.plugin}: buildModel returned ${m === null ? 'null' : typeof m}, not a tf.LayersModel`, 'Return tf.sequential(...) or tf.model(...), uncompiled.');
      }
      checkCustomModel(m, info, options.model.plugin);
      return m;
    }
    return buildLayersModel(tf, options.model.layers, info.inputShape, window);
  });
  const optimizer = createOptimizer(tf, options.optimizer);
  model.compile({ optimizer, loss: LOSSES[options.loss], metrics: options.metrics });
  return { model, optimizer };
}

/**
 * Runs one gradient computation on two zero samples and reports a kernel the wasm backend lacks
 * (conv1d needs Conv2DBackpropFilter, embeddings UnsortedSegmentSum). Weights (batchNorm moving
 * statistics included) are restored afterwards.
 */
export function missingGradientKernel(tf: TF, model: LayersModel, inputShape: number[]): string | undefined {
  const inner = (model as unknown as { model?: { lossFunctions?: ((a: Tensor, b: Tensor) => Tensor)[] } }).model ?? (model as unknown as { lossFunctions?: ((a: Tensor, b: Tensor) => Tensor)[] });
  const lossFn = inner.lossFunctions?.[0] ?? ((a: Tensor, b: Tensor) => tf.square(tf.sub(a, b)));
  const saved = model.getWeights().map((w) => w.clone());
  const x = tf.zeros([2, ...inputShape]);
  const y = tf.zeros([2, 1]);
  try {
    tf.tidy(() => {
      const vars = model.trainableWeights.map((w) => w.read() as Variable);
      tf.variableGrads(() => tf.mean(lossFn(y, model.apply(x, { training: true }) as Tensor)) as Scalar, vars);
    });
    return undefined;
  } catch (err) {
    const m = /Kernel '(\w+)' not registered for backend 'wasm'/.exec((err as Error).message);
    if (m) return m[1];
    throw err;
  } finally {
    model.setWeights(saved);
    tf.dispose([...saved, x, y]);
  }
}

function missingFor(kernel: string): string {
  if (kernel.startsWith('Conv2DBackprop') || kernel.startsWith('Conv2D')) return 'conv1d';
  if (kernel === 'UnsortedSegmentSum') return 'embedding layers';
  return 'a layer of this model';
}

function mustRestore(tf: TF, model: LayersModel, weights: TrainState['weights']): void {
  const err = restoreWeights(tf, model, weights);
  if (err) throw new Error(`cannot restore the best weights: ${err}`);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function countParams(model: LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

function dataDigest(d: Dataset): string {
  const h = createHash('sha256');
  for (const a of [d.train.x, d.train.y, d.val.x, d.val.y]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex').slice(0, 32);
}

function optionsDigest(options: TrainOptions): string {
  const copy = { ...(options as unknown as Record<string, unknown>) };
  for (const k of RESUME_SAFE) delete copy[k];
  return createHash('sha256').update(stableStringify(copy)).digest('hex').slice(0, 32);
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Each epoch of a restored history as its `epoch` event had it: `{ epoch, metrics }` (lr included). */
export function replayEpochs(history: Record<string, number[]>): { epoch: number; metrics: Record<string, number> }[] {
  const epochs = history.epoch ?? [];
  return epochs.map((epoch, i) => {
    const metrics: Record<string, number> = {};
    for (const [k, values] of Object.entries(history)) if (k !== 'epoch' && values[i] !== undefined) metrics[k] = values[i]!;
    return { epoch, metrics };
  });
}
