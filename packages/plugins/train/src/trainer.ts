/**
 * The training loop: one `fit` call per epoch (with initialEpoch), on the training samples in a
 * permutation seeded by (seed, epoch), dropout seeded by (seed, epoch, batch, layer), and all
 * bookkeeping (epoch loss, early stopping, learning-rate schedule, history) kept here so that it
 * can be checkpointed and restored exactly, at an epoch boundary or after any batch.
 */
import type { TF } from './backend.js';
import { EarlyStopping, ReduceLrOnPlateau, type BestState, type EarlyState, type PlateauState } from './callbacks.js';
import { lossNotFinite } from './errors.js';
import { setLearningRate } from './model.js';
import type { TrainOptions } from './schema.js';
import { epochPermutation, hash32 } from './seed.js';
import { captureOptimizer, captureWeights, restoreOptimizer, restoreWeights, type OptimizerState, type SavedTensor } from './state.js';
import type { LayersModel, Optimizer, Tensor } from './tf-types.js';

export const STATE_VERSION = 1;

/** What a checkpoint holds. */
export interface TrainState {
  v: typeof STATE_VERSION;
  /** Completed epochs. */
  epoch: number;
  /** Batches done of the next epoch (0 at an epoch boundary; > 0 after a mid-epoch cancel). */
  batch: number;
  /** Running sums (float32 values) of the unfinished epoch's batch logs, weighted by batch size. */
  partial?: { samples: number; sums: Record<string, number> };
  weights: SavedTensor[];
  optimizer: OptimizerState;
  lr: number;
  best: BestState;
  /** Weights of the best epoch (for model/best and restoreBest). */
  bestWeights?: SavedTensor[];
  /** Set instead of bestWeights when the best epoch is the saved one: its weights are `weights`. */
  bestIsCurrent?: boolean;
  early: EarlyState;
  plateau?: PlateauState;
  stoppedEarly: boolean;
  history: Record<string, number[]>;
  seed: number;
  backend: string;
  tfjsVersion: string;
  /** Digest of the training and validation samples, so that a checkpoint is never applied to other data. */
  dataHash: string;
  /** Digest of the effective options (after HPO parameters), minus the resume-safe ones. */
  optionsHash: string;
}

export interface EpochReport {
  epoch: number;
  metrics: Record<string, number>;
  lr: number;
  seconds: number;
  memory: { tensors: number; bytes: number };
}

export interface TrainerHooks {
  signal: AbortSignal;
  /** Progress inside an epoch: step = completed epochs + fraction of the current one; batch of batches in this epoch. */
  batchProgress(step: number, batch?: number, batches?: number): void;
  epochEnd(report: EpochReport): void;
  /** Saves a checkpoint; resolves with its size in bytes once committed. */
  checkpoint(state: TrainState, type: 'periodic' | 'cancellation' | 'failure' | 'final', step: number, metrics?: Record<string, number>): Promise<number>;
  log(level: 'debug' | 'info' | 'warn', message: string): void;
}

export interface TrainerData {
  /** Training samples, row-major (nTrain × inputShape), and their labels. */
  xTrain: Float32Array;
  yTrain: Float32Array;
  /** Per-sample input shape: [features] or [window, features]. */
  inputShape: number[];
  xVal?: Tensor;
  yVal?: Tensor;
  nTrain: number;
}

export interface TrainerSetup {
  tf: TF;
  model: LayersModel;
  optimizer: Optimizer;
  data: TrainerData;
  options: TrainOptions;
  backend: string;
  dataHash: string;
  optionsHash: string;
  hooks: TrainerHooks;
}

/** Yield to the event loop at most this often inside an epoch, so cancellation gets through. */
const YIELD_MS = 50;

export class Trainer {
  private readonly tf: TF;
  private readonly opts: TrainOptions;
  private readonly stopper: EarlyStopping;
  private readonly plateau?: ReduceLrOnPlateau;
  private readonly monitor: string;
  private readonly dropouts: { seed?: number }[] = [];
  private readonly nBatches: number;
  private state!: TrainState;
  /** The state at the last epoch boundary: what a failure checkpoint saves. */
  private boundary?: TrainState;
  private lastSavedAt = -1;
  /** Time spent on checkpoints: saving them, and the per-epoch snapshot kept for a failure checkpoint. */
  readonly stats = { saves: 0, saveMs: 0, snapshotMs: 0, lastBytes: 0 };
  /** Training samples processed by this attempt. */
  samplesSeen = 0;
  private rnnCalls = 0;
  /** Reused between epochs: the training samples in the epoch's order. */
  private xOrdered = new Float32Array(0);
  private yOrdered = new Float32Array(0);
  private rnnSeedBase = 0;

  constructor(private readonly s: TrainerSetup) {
    this.tf = s.tf;
    this.opts = s.options;
    const hasVal = s.data.xVal !== undefined;
    this.monitor = s.options.earlyStopping?.monitor ?? (hasVal ? 'val_loss' : 'loss');
    this.stopper = new EarlyStopping(this.monitor, s.options.earlyStopping);
    if (s.options.reduceLrOnPlateau) this.plateau = new ReduceLrOnPlateau(s.options.reduceLrOnPlateau);
    this.nBatches = Math.ceil(s.data.nTrain / s.options.batchSize);
    this.wireRandomness(s.model);
  }

  /** Dropout layers get a fresh seed per batch; recurrent cells draw their masks from a seeded function. */
  private wireRandomness(model: LayersModel): void {
    const tf = this.tf;
    const visit = (layers: unknown[]) => {
      for (const layer of layers as { getClassName(): string; seed?: number; cell?: Record<string, unknown>; layers?: unknown[] }[]) {
        const cls = layer.getClassName();
        if (cls === 'Dropout' || cls === 'SpatialDropout1D') this.dropouts.push(layer);
        else if (layer.cell && ((layer.cell.dropout as number) > 0 || (layer.cell.recurrentDropout as number) > 0)) {
          layer.cell.dropoutFunc = (x: Tensor, rate: number) => tf.dropout(x, rate, undefined, hash32(this.rnnSeedBase, this.rnnCalls++));
        } else if (['GaussianNoise', 'GaussianDropout', 'AlphaDropout'].includes(cls)) {
          this.s.hooks.log('warn', `layer ${cls} draws unseeded random numbers: a resumed training will not be bit-identical`);
        }
        if (Array.isArray(layer.layers)) visit(layer.layers);
      }
    };
    visit(model.layers);
  }

  private seedBatch(epoch: number, batch: number): void {
    for (const [j, d] of this.dropouts.entries()) d.seed = hash32(this.opts.seed, 'dropout', epoch, batch, j);
    this.rnnSeedBase = hash32(this.opts.seed, 'rnn-dropout', epoch, batch);
    this.rnnCalls = 0;
  }

  /** Removes the per-batch seeds so that the saved model.json carries none. */
  clearSeeds(): void {
    for (const d of this.dropouts) d.seed = undefined;
  }

  get current(): TrainState {
    return this.state;
  }

  initialState(lr: number, tfjsVersion: string): void {
    this.state = {
      v: STATE_VERSION,
      epoch: 0,
      batch: 0,
      weights: [],
      optimizer: { className: this.s.optimizer.getClassName(), weights: [] },
      lr,
      best: this.stopper.initialBest(),
      early: { wait: 0, stoppedEpoch: 0 },
      plateau: this.plateau?.initial(),
      stoppedEarly: false,
      history: {},
      seed: this.opts.seed,
      backend: this.s.backend,
      tfjsVersion,
      dataHash: this.s.dataHash,
      optionsHash: this.s.optionsHash,
    };
  }

  /** Restores a checkpoint into the model and optimizer. Returns why it cannot be used, if so. */
  async restore(saved: TrainState): Promise<string | undefined> {
    if (saved.v !== STATE_VERSION) return `it has state version ${saved.v}, this trainer writes ${STATE_VERSION}`;
    if (saved.dataHash !== this.s.dataHash) return 'the training data changed since it was saved';
    if (saved.optionsHash !== this.s.optionsHash) return 'the effective options (e.g. the best parameters of an HPO stage) changed since it was saved';
    if (saved.batch > 0 && saved.batch >= this.nBatches) return `it stopped after batch ${saved.batch} of an epoch that has ${this.nBatches}`;
    if (saved.optimizer.className !== this.s.optimizer.getClassName()) return `it holds ${saved.optimizer.className} state, the optimizer is ${this.s.optimizer.getClassName()}`;
    const w = restoreWeights(this.tf, this.s.model, saved.weights);
    if (w) return w;
    const o = await restoreOptimizer(this.tf, this.s.optimizer, saved.optimizer);
    if (o) return o;
    setLearningRate(this.s.optimizer, saved.lr);
    this.state = { ...saved, backend: this.s.backend, bestWeights: saved.bestIsCurrent ? saved.weights : saved.bestWeights, bestIsCurrent: undefined };
    this.boundary = saved.batch === 0 ? this.state : undefined;
    this.lastSavedAt = this.position(saved);
    return undefined;
  }

  private position(st: TrainState): number {
    return st.epoch * (this.nBatches + 1) + st.batch;
  }

  private async snapshot(extra: Partial<TrainState> = {}): Promise<TrainState> {
    return {
      ...this.state,
      weights: captureWeights(this.s.model),
      optimizer: await captureOptimizer(this.s.optimizer),
      history: structuredClone(this.state.history),
      best: { ...this.state.best },
      early: { ...this.state.early },
      plateau: this.state.plateau ? { ...this.state.plateau } : undefined,
      ...extra,
    };
  }

  private async save(state: TrainState, type: 'periodic' | 'cancellation' | 'failure' | 'final', metrics?: Record<string, number>): Promise<void> {
    const step = state.batch > 0 ? round(state.epoch + state.batch / this.nBatches) : state.epoch;
    const t = performance.now();
    // The best weights are often this epoch's: then the checkpoint does not hold them twice.
    const payload: TrainState =
      state.batch === 0 && state.best.epoch === state.epoch && state.bestWeights ? { ...state, bestWeights: undefined, bestIsCurrent: true } : state;
    this.stats.lastBytes = await this.s.hooks.checkpoint(payload, type, step, metrics);
    this.stats.saveMs += performance.now() - t;
    this.stats.saves++;
    this.lastSavedAt = this.position(state);
  }

  /** Trains until `epochs`, early stopping or cancellation (which saves a checkpoint and throws the signal's reason). */
  async run(): Promise<void> {
    const { hooks } = this.s;
    const epochs = this.opts.epochs;
    try {
      while (this.state.epoch < epochs && !this.state.stoppedEarly) {
        if (hooks.signal.aborted) {
          await this.save(await this.snapshot(), 'cancellation');
          throw hooks.signal.reason;
        }
        const started = performance.now();
        const done = await this.runEpoch();
        if (!done) {
          // Cancelled inside the epoch: the model stands after the last finished batch.
          await this.save(await this.snapshot(), 'cancellation');
          throw hooks.signal.reason;
        }
        const report = await this.endEpoch((performance.now() - started) / 1000);
        hooks.epochEnd(report);
        const e = this.state.epoch;
        if (this.opts.checkpointEvery > 0 && e % this.opts.checkpointEvery === 0 && e < epochs && !this.state.stoppedEarly) {
          await this.save(this.boundary!, 'periodic', report.metrics);
        }
      }
    } catch (err) {
      if (!hooks.signal.aborted && this.boundary && this.position(this.boundary) > this.lastSavedAt) {
        try {
          await this.save(this.boundary, 'failure');
          hooks.log('info', `saved a failure checkpoint at epoch ${this.boundary.epoch}`);
        } catch (saveErr) {
          hooks.log('warn', `could not save a failure checkpoint: ${(saveErr as Error).message}`);
        }
      }
      throw err;
    }
  }

  /** The final checkpoint: lets a raised `epochs` continue from here. */
  async saveFinal(): Promise<void> {
    const st = this.boundary ?? (await this.snapshot());
    if (this.position(st) > this.lastSavedAt || this.lastSavedAt < 0) await this.save(st, 'final');
  }

  /** Runs (the rest of) one epoch. Returns false when cancelled before its end. */
  private async runEpoch(): Promise<boolean> {
    const { tf, s } = this;
    const { data, hooks } = s;
    const st = this.state;
    const epoch = st.epoch;
    const startBatch = st.batch;
    const bs = this.opts.batchSize;
    const perm = epochPermutation(data.nTrain, this.opts.seed, epoch, this.opts.shuffle);
    const order = startBatch > 0 ? perm.subarray(startBatch * bs) : perm;
    const sums: Record<string, Tensor> = {};
    let samples = st.partial?.samples ?? 0;
    let batchesDone = startBatch;
    const val: Record<string, number> = {};
    let lastYield = performance.now();
    const trainer = this;

    class EpochCallback extends (tf.Callback as unknown as new () => { model: LayersModel }) {
      async onBatchBegin(batch: number): Promise<void> {
        trainer.seedBatch(epoch, startBatch + batch);
      }
      async onBatchEnd(batch: number, logs?: Record<string, unknown>): Promise<void> {
        const size = (logs?.size as number) ?? 0;
        for (const [k, v] of Object.entries(logs ?? {})) {
          if (k === 'batch' || k === 'size') continue;
          const prev = sums[k];
          sums[k] = tf.keep(tf.tidy(() => tf.add(prev ?? 0, tf.mul(v as Tensor, size))));
          prev?.dispose();
        }
        samples += size;
        trainer.samplesSeen += size;
        batchesDone = startBatch + batch + 1;
        hooks.batchProgress(round(epoch + batchesDone / trainer.nBatches), batchesDone, trainer.nBatches);
        if (hooks.signal.aborted) this.model.stopTraining = true;
        else if (performance.now() - lastYield > YIELD_MS) {
          await new Promise((r) => setImmediate(r));
          lastYield = performance.now();
          if (hooks.signal.aborted) this.model.stopTraining = true;
        }
      }
      async onEpochEnd(_epoch: number, logs?: Record<string, unknown>): Promise<void> {
        for (const [k, v] of Object.entries(logs ?? {})) {
          if (k.startsWith('val_')) val[k] = typeof v === 'number' ? v : (v as Tensor).dataSync()[0]!;
        }
      }
    }

    tf.engine().startScope();
    try {
      for (const [k, v] of Object.entries(st.partial?.sums ?? {})) sums[k] = tf.keep(tf.scalar(v, 'float32'));
      // Ordering the rows in JS (row copies) is several times faster than a gather on wasm.
      const row = data.xTrain.length / data.nTrain;
      const n = order.length;
      if (this.xOrdered.length < n * row) this.xOrdered = new Float32Array(n * row);
      if (this.yOrdered.length < n) this.yOrdered = new Float32Array(n);
      const xb = this.xOrdered.subarray(0, n * row);
      const yb = this.yOrdered.subarray(0, n);
      for (let i = 0; i < n; i++) {
        const r = order[i]!;
        xb.set(data.xTrain.subarray(r * row, (r + 1) * row), i * row);
        yb[i] = data.yTrain[r]!;
      }
      // The cpu backend keeps a reference to the buffer; the tensor is disposed with this scope,
      // before the buffer is refilled for the next epoch.
      const xs = tf.tensor(xb, [n, ...data.inputShape], 'float32');
      const ys = tf.tensor2d(yb, [n, 1], 'float32');
      await s.model.fit(xs, ys, {
        epochs: epoch + 1,
        initialEpoch: epoch,
        batchSize: bs,
        shuffle: false,
        verbose: 0,
        validationData: data.xVal && data.yVal ? [data.xVal, data.yVal] : undefined,
        callbacks: [new EpochCallback() as never],
      });
      const sumValues = Object.fromEntries(Object.entries(sums).map(([k, t]) => [k, t.dataSync()[0]!]));
      if (batchesDone < this.nBatches) {
        this.state = { ...st, batch: batchesDone, partial: { samples, sums: sumValues } };
        return false;
      }
      const metrics: Record<string, number> = {};
      for (const [k, v] of Object.entries(sumValues)) metrics[k] = v / samples;
      Object.assign(metrics, val);
      this.pendingMetrics = metrics;
      return true;
    } finally {
      tf.dispose(Object.values(sums));
      tf.engine().endScope();
    }
  }

  private pendingMetrics: Record<string, number> = {};

  private async endEpoch(seconds: number): Promise<EpochReport> {
    const st = this.state;
    const epoch = st.epoch + 1;
    const metrics = this.pendingMetrics;
    const loss = metrics.loss ?? NaN;
    if (this.opts.stopOnNaN && !Number.isFinite(loss)) throw lossNotFinite(epoch, loss, st.lr);
    const lrUsed = st.lr;
    const history = st.history;
    const push = (k: string, v: number) => (history[k] ??= []).push(v);
    push('epoch', epoch);
    for (const [k, v] of Object.entries(metrics)) push(k, v);
    push('lr', lrUsed);
    const best = { ...st.best };
    const early = { ...st.early };
    const current = metrics[this.monitor];
    if (current === undefined) throw new Error(`earlyStopping.monitor "${this.monitor}" is not a reported value (have: ${Object.keys(metrics).join(', ')})`);
    const { improved, stop } = this.stopper.update(epoch, current, best, early);
    let lr = lrUsed;
    let plateau = st.plateau;
    if (this.plateau) {
      plateau = { ...st.plateau! };
      const watched = metrics[this.plateau.spec.monitor];
      if (watched === undefined) throw new Error(`reduceLrOnPlateau.monitor "${this.plateau.spec.monitor}" is not a reported value (have: ${Object.keys(metrics).join(', ')})`);
      lr = this.plateau.update(watched, lrUsed, plateau);
      if (lr !== lrUsed) {
        setLearningRate(this.s.optimizer, lr);
        this.s.hooks.log('info', `epoch ${epoch}: ${this.plateau.spec.monitor} has not improved for ${this.plateau.spec.patience} epochs; learning rate ${lrUsed} -> ${lr}`);
      }
    }
    if (stop) this.s.hooks.log('info', `early stopping after epoch ${epoch}: ${this.monitor} has not improved since epoch ${best.epoch} (${fmt(best.value)})`);
    this.state = {
      ...st,
      epoch,
      batch: 0,
      partial: undefined,
      lr,
      best,
      early,
      plateau,
      stoppedEarly: stop,
      bestWeights: improved ? captureWeights(this.s.model) : st.bestWeights,
    };
    const t = performance.now();
    this.boundary = await this.snapshot();
    this.stats.snapshotMs += performance.now() - t;
    const mem = this.tf.memory();
    return { epoch, metrics: { ...metrics, lr: lrUsed }, lr, seconds, memory: { tensors: mem.numTensors, bytes: mem.numBytes } };
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(5) : String(x);
}
