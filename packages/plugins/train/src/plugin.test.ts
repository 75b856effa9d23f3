import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as tfc from '@tensorflow/tfjs-core';
import { writeSeries } from '@runner/core/series';
import { runPlugin, type PluginRun } from '@runner/core/testing';
import { validateOptions, type UpstreamTask } from '@runner/core';
import plugin, { type TrainOptions, type TrainResult } from './index.js';
import { inferenceInputs, loadTrained } from './inference.js';
import { effectiveOptions } from './run.js';
import { schema } from './schema.js';
import { syntheticSeries } from './synthetic.js';
import { outcome, small, weightsOf, type DeepPartial } from '../test/helpers.js';

const FIXTURES = resolve(fileURLToPath(import.meta.url), '../../test/fixtures');
type Run = PluginRun<TrainResult>;
const train = (options: Record<string, unknown>, run: Parameters<typeof runPlugin>[2] = {}) => runPlugin(plugin, options, run) as Promise<Run>;

function expectFailure(r: Run, code: string, message: RegExp | string): void {
  expect(r.outcome, JSON.stringify(r.result)).toBe('failed');
  if (code) expect(r.error?.code).toBe(code);
  if (typeof message === 'string') expect(r.error?.message).toBe(message);
  else expect(r.error?.message).toMatch(message);
}

describe('train plugin', () => {
  test('reports every epoch to the pruner and as progress, and writes the outputs later stages load', async () => {
    const r = await train(small({ epochs: 3, metrics: ['mae'] }));
    expect(r.outcome).toBe('completed');
    const res = r.result!;
    const epochs = r.events.filter((e) => e.name === 'epoch').map((e) => e.data as { epoch: number; metrics: Record<string, number> });
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    for (const e of epochs) expect(Object.keys(e.metrics).sort()).toEqual(['loss', 'lr', 'mae', 'val_loss', 'val_mae']);
    // One progress update per epoch with metrics, and fractional ones inside each epoch.
    const perEpoch = r.progress.filter((p) => p.metrics);
    expect(perEpoch.map((p) => [p.step, p.total])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(r.progress.some((p) => p.step! > 0 && p.step! < 1)).toBe(true);
    expect(r.checkpoints.map((c) => `${c.type}@${c.step}`)).toEqual(['periodic@1', 'periodic@2', 'final@3']);
    expect(res).toMatchObject({ epochs: 3, stoppedEarly: false, backend: 'cpu', tfjsVersion: '4.22.0', inputShape: [8], samples: { train: 599, val: 150 } });
    const history = JSON.parse(readFileSync(res.history, 'utf8')) as Record<string, number[]>;
    expect(history.epoch).toEqual([1, 2, 3]);
    expect(readFileSync(res.historyCsv, 'utf8').split('\n')[0]).toBe('epoch,loss,mae,val_loss,val_mae,lr');
    expect(res.metrics.best_val_loss).toBe(Math.min(...history.val_loss!));
    const model = JSON.parse(readFileSync(join(res.model.final, 'model.json'), 'utf8'));
    expect(model.format).toBe('layers-model');
    // The per-batch dropout seeds are not saved with the model.
    expect(JSON.stringify(model.modelTopology)).not.toMatch(/"seed":\d/);
  });

  test('the saved model and normaliser reproduce the validation loss on the raw series', async () => {
    const rows = 800;
    const r = await train(small({ epochs: 3, model: { layers: [{ dense: { units: 8, activation: 'relu' } }, { dense: { units: 1 } }] }, earlyStopping: { patience: 5 } }));
    const res = r.result!;
    const { tf, model, normaliser } = await loadTrained(res);
    const s = syntheticSeries(rows, 3);
    const inputs = inferenceInputs(s as never, normaliser);
    const pred = model.predict(tf.tensor(inputs.x, inputs.shape)) as tfc.Tensor;
    const p = pred.dataSync();
    let se = 0;
    let n = 0;
    for (let i = 0; i < inputs.n; i++) {
      const t = inputs.rows[i]!;
      if (s.time[t]! < normaliser.valStart! || t + 1 >= rows) continue;
      se += (p[i]! - Math.fround(Math.log(s.close[t + 1]! / s.close[t]!))) ** 2;
      n++;
    }
    tf.dispose(pred);
    model.dispose();
    expect(n).toBe(res.samples.val);
    expect(se / n).toBeCloseTo(res.metrics.val_loss!, 6);
  });

  test('no tensor leaks: tensor count is flat across epochs and over 20 trainings in one thread', async () => {
    const counts: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await train(small({ epochs: 2, checkpointEvery: 0, data: { synthetic: { rows: 300, seed: i } } }));
      expect(r.outcome).toBe('completed');
      const during = r.events.filter((e) => e.name === 'epoch').map((e) => (e.data as { memory: { tensors: number } }).memory.tensors);
      expect(new Set(during).size).toBe(1);
      counts.push(tfc.memory().numTensors);
    }
    // Flat from the first training on (tfjs keeps a cached scalar or so after its first use).
    expect(new Set(counts)).toEqual(new Set([counts[0]]));
    expect(counts[0]).toBeLessThanOrEqual(2);
  });

  test('raising epochs on a completed task resumes from its final checkpoint', async () => {
    const short = await train(small({ epochs: 3 }));
    const longer = await train(small({ epochs: 5 }), { dir: short.dir });
    const direct = await train(small({ epochs: 5 }));
    expect(longer.resumedFrom).toBe(3);
    expect(longer.result?.resumedFrom).toMatchObject({ type: 'final', epoch: 3, batch: 0 });
    expect(longer.result?.resumedFrom?.restoreMs).toBeLessThan(1000);
    expect(outcome(longer.result!)).toEqual(outcome(direct.result!));
  });

  test('a resumed training first replays the epochs of its checkpoint as epoch events (replay: true), with their values', async () => {
    // A parent that missed one (an hpo trial, when a kill landed between this checkpoint and the
    // study recording the epoch) records it from the replay.
    const epochsOf = (r: Run) => r.events.filter((e) => e.name === 'epoch').map((e) => e.data as { epoch: number; metrics: Record<string, number>; replay?: boolean });
    const base = await train(small({ epochs: 4 }));
    const first = await train(small({ epochs: 4 }), { crashAtStep: 2.5 });
    expect(first.outcome).toBe('crashed');
    const resumed = await train(small({ epochs: 4 }), { dir: first.dir });
    expect(resumed.resumedFrom).toBe(2);
    expect(epochsOf(base).map((e) => [e.epoch, e.replay ?? false])).toEqual([[1, false], [2, false], [3, false], [4, false]]);
    expect(epochsOf(resumed).map((e) => [e.epoch, e.replay ?? false])).toEqual([[1, true], [2, true], [3, false], [4, false]]);
    for (const e of epochsOf(resumed)) expect(e.metrics, `epoch ${e.epoch}`).toEqual(epochsOf(base)[e.epoch - 1]!.metrics);
  });

  test('a corrupted checkpoint falls back to the previous one', async () => {
    const base = await train(small({ epochs: 5 }));
    const opts = small({ epochs: 5 });
    const first = await train(opts, { crashAtStep: 3.5, inlineMaxBytes: 0 });
    expect(first.outcome).toBe('crashed');
    const dir = join(first.dir, 'artifacts', 'test', 'cycle=1', '.checkpoints');
    const files = readdirSync(dir).sort();
    expect(files.length).toBe(3);
    const newest = join(dir, files.at(-1)!);
    const bytes = readFileSync(newest);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(newest, bytes);
    const second = await train(opts, { dir: first.dir, inlineMaxBytes: 0 });
    expect(second.outcome).toBe('completed');
    expect(second.resumedFrom).toBe(2);
    expect(second.logs.some((l) => l.level === 'warn' && /checksum/.test(l.message))).toBe(true);
    expect(weightsOf(second.result!).equals(weightsOf(base.result!))).toBe(true);
  });

  test('an error during training saves a failure checkpoint at the last finished epoch, and the retry resumes there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'train-fail-'));
    const model = (marker: string) => ({ plugin: join(FIXTURES, 'fail-once-model.mjs'), params: { failAtCall: 30, marker } });
    // 10 training batches + 3 validation batches per epoch: call 30 is in epoch 3.
    const opts = (marker: string) => small({ epochs: 5, checkpointEvery: 0, model: model(marker) });
    writeFileSync(join(dir, 'never'), '');
    const base = await train(opts(join(dir, 'never')));
    const marker = join(dir, 'marker');
    const failed = await train(opts(marker));
    expectFailure(failed, undefined as never, /injected failure at call 30/);
    expect(failed.checkpoints.map((c) => `${c.type}@${c.step}`)).toEqual(['failure@2']);
    const retry = await train(opts(marker), { dir: failed.dir });
    expect(retry.outcome).toBe('completed');
    expect(retry.resumedFrom).toBe(2);
    expect(outcome(retry.result!)).toEqual(outcome(base.result!));
    rmSync(dir, { recursive: true, force: true });
  });

  test('early stopping hands over the best epoch: the result metrics are that epoch\'s', async () => {
    const setup: DeepPartial<TrainOptions> = { epochs: 12, optimizer: { sgd: { lr: 0.3 } }, model: { layers: [{ dense: { units: 32, activation: 'relu' } }, { dense: { units: 1 } }] } };
    const r = await train(small({ ...setup, earlyStopping: { patience: 1 } }));
    const res = r.result!;
    const history = JSON.parse(readFileSync(res.history, 'utf8')) as Record<string, number[]>;
    expect(res.stoppedEarly).toBe(true);
    expect(res.epochs).toBeLessThan(12);
    const best = history.val_loss!.indexOf(Math.min(...history.val_loss!)) + 1;
    expect(res.metrics).toMatchObject({ best_epoch: best, val_loss: history.val_loss![best - 1], loss: history.loss![best - 1] });
    expect(res.restoredBest).toBe(true);
    expect(res.model.sha256.final).toBe(res.model.sha256.best);
    expect(r.logs.some((l) => /early stopping after epoch/.test(l.message))).toBe(true);
    // Without restoreBest the final model is the last epoch's, and model/best is still the best one.
    const last = (await train(small({ ...setup, earlyStopping: { patience: 1, restoreBest: false } }))).result!;
    expect(last.metrics.val_loss).toBe(history.val_loss![res.epochs - 1]);
    expect(last.model.sha256.best).toBe(res.model.sha256.best);
    expect(last.model.sha256.final).not.toBe(res.model.sha256.best);
  });

  test('reduceLrOnPlateau lowers the rate and the lowered rate survives a resume', async () => {
    const opts = small({
      epochs: 6,
      optimizer: { sgd: { lr: 0.3 } },
      reduceLrOnPlateau: { patience: 1, factor: 0.5 },
      model: { layers: [{ dense: { units: 32, activation: 'relu' } }, { dense: { units: 1 } }] },
    });
    const base = await train(opts);
    const lrs = (JSON.parse(readFileSync(base.result!.history, 'utf8')) as Record<string, number[]>).lr!;
    expect(lrs[0]).toBe(0.3);
    expect(Math.min(...lrs)).toBeLessThan(0.3);
    const first = await train(opts, { crashAtStep: 4.5 });
    const again = await train(opts, { dir: first.dir });
    expect(again.resumedFrom).toBe(4);
    expect(outcome(again.result!)).toEqual(outcome(base.result!));
  });
});

describe('backends', () => {
  test('auto picks wasm when the native packages are absent, and says why', async () => {
    const r = await train(small({ epochs: 1, backend: 'auto' }));
    expect(r.result?.backend).toBe('wasm');
    const debug = r.logs.filter((l) => l.level === 'debug').map((l) => l.message);
    expect(debug).toContain('backend tensorflow-gpu: @tensorflow/tfjs-node-gpu not installed');
    expect(debug).toContain('backend tensorflow: @tensorflow/tfjs-node not installed');
    expect(r.logs.some((l) => l.level === 'info' && l.message.startsWith('backend wasm (tfjs 4.22.0)'))).toBe(true);
  });

  test('an explicit native backend that is not installed fails with how to install it', async () => {
    const r = await train(small({ epochs: 1, backend: 'tensorflow-gpu' }));
    expectFailure(r, 'TRAIN_BACKEND_UNAVAILABLE', 'backend tensorflow-gpu needs @tensorflow/tfjs-node-gpu, which is not installed');
    expect(r.error?.hint).toMatch(/CUDA 11.2 and cuDNN 8.1/);
    expect(r.error?.retryable).toBe(false);
    const w = await train(small({ epochs: 1, backend: 'webgpu' }));
    expectFailure(w, 'TRAIN_BACKEND_UNAVAILABLE', 'backend webgpu needs the webgpu and @tensorflow/tfjs-backend-webgpu packages, not installed');
  });

  test('native backends and webgpu get a process of their own, the others share the thread pool', () => {
    const iso = plugin.isolation as (o: { backend: string }) => string;
    expect(['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu', 'webgpu'].map((backend) => iso({ backend }))).toEqual([
      'thread',
      'thread',
      'thread',
      'process',
      'process',
      'process',
    ]);
  });

  test('conv1d cannot train on wasm (no Conv2DBackpropFilter): it falls back to cpu with a message', async () => {
    const opts = small({
      epochs: 2,
      backend: 'wasm',
      data: { window: 6 },
      model: { layers: [{ conv1d: { filters: 4, kernelSize: 3, activation: 'relu' } }, { pooling: { global: true } }, { dense: { units: 1 } }] },
    });
    const r = await train(opts);
    expect(r.outcome, r.error?.message).toBe('completed');
    expect(r.result?.backend).toBe('cpu');
    expect(r.result?.backendFallback).toMatch(/wasm has no Conv2DBackpropFilter kernel \(needed to train conv1d\); trained on cpu/);
    expect(r.logs.some((l) => l.level === 'warn' && /falling back to cpu/.test(l.message))).toBe(true);
    // Same weights as asking for cpu directly: the fallback rebuilt the same seeded model.
    const cpu = await train({ ...opts, backend: 'cpu' });
    expect(cpu.result?.model.sha256).toEqual(r.result?.model.sha256);
  });

  test('recurrent layers with dropout train on wasm and resume exactly', async () => {
    const opts = small({
      epochs: 3,
      backend: 'wasm',
      data: { window: 5 },
      model: { layers: [{ gru: { units: 6, dropout: 0.2, recurrentDropout: 0.2 } }, { dense: { units: 1 } }] },
    });
    const base = await train(opts);
    expect(base.result?.backend).toBe('wasm');
    const first = await train(opts, { cancelAtStep: 1.5 });
    expect(first.outcome).toBe('cancelled');
    const again = await train(opts, { dir: first.dir });
    expect(again.resumedFrom).toBe(1.5);
    expect(outcome(again.result!)).toEqual(outcome(base.result!));
  });
});

describe('models from a module', () => {
  test('buildModel(tf, params, info) builds the network', async () => {
    const r = await train(small({ epochs: 2, model: { plugin: join(FIXTURES, 'custom-model.mjs'), params: { units: 5 } } }));
    expect(r.outcome, r.error?.message).toBe('completed');
    // 8 inputs: tanh dense(5) = 45, skip dense(4) = 36, output dense(1) over 9 = 10.
    expect(r.result?.params).toBe(91);
  });

  test('a module whose model does not fit the data, or that does not exist, fails clearly', async () => {
    const wrong = await train(small({ epochs: 1, model: { plugin: join(FIXTURES, 'wrong-model.mjs') } }));
    expectFailure(wrong, 'TRAIN_MODEL_INVALID', /wrong-model.mjs: the model outputs \[3\] per sample but the label is one value \(\[1\]\)/);
    const missing = await train(small({ epochs: 1, model: { plugin: './no-such-model.mjs' } }));
    expectFailure(missing, 'TRAIN_OPTIONS_INVALID', /model.plugin: ".\/no-such-model.mjs" failed to load/);
  });

  test('a layer that does not fit the data shape names the layer and the shapes', async () => {
    const r = await train(small({ epochs: 1, model: { layers: [{ lstm: { units: 4 } }, { dense: { units: 1 } }] } }));
    expectFailure(r, 'TRAIN_MODEL_INVALID', /^model.layers\[0\] \(lstm\) needs sequences of shape \[steps, features\] but gets \[8\] per sample/);
    expect(r.error?.hint).toBe('Use data.window > 1, or put dense layers first.');
  });
});

describe('HPO parameters and upstream data', () => {
  const hpo = (bestParams: Record<string, unknown>): UpstreamTask => ({
    id: 'hpo/symbol=AAA/cycle=1',
    stage: 'hpo',
    cell: { symbol: 'AAA' },
    result: { bestParams, bestValue: 0.1 },
    artifactDir: '/nonexistent',
  });
  // Stage options as the runner hands them over: validated with defaults, placeholders kept.
  const stageOptions = () => {
    const o = small({ epochs: 2 }) as Record<string, unknown>;
    validateOptions(schema, o);
    (o.model as { layers: { dense: { units: unknown } }[] }).layers[0]!.dense.units = '${params.units}';
    return o as never;
  };

  test('the best parameters of an upstream HPO stage fill ${params.NAME} placeholders and dotted option paths', () => {
    const e = effectiveOptions({ options: stageOptions(), upstream: { hpo: hpo({ units: 5, 'optimizer.adam.lr': 0.01 }) } });
    expect(e.options.model.layers[0]).toEqual({ dense: { units: 5, activation: 'relu', useBias: true, l2: 0 } });
    expect(e.options.optimizer).toEqual({ adam: { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } });
    expect(e.bestParamsFrom).toBe('hpo/symbol=AAA/cycle=1');
  });

  test('best parameters that do not fit the schema fail with the path and the value', () => {
    expect(() => effectiveOptions({ options: stageOptions(), upstream: { hpo: hpo({ units: 0 }) } })).toThrow(
      /^the options are invalid after applying the best parameters of hpo\/symbol=AAA\/cycle=1 \(\{"units":0\}\): model.layers\[0\].dense.units: must be >= 1/,
    );
    expect(() => effectiveOptions({ options: stageOptions(), upstream: { hpo: hpo({ units: 4, 'optimizer.sgd.lr': 0.1 }) } })).toThrow(/optimizer: /);
  });

  test('a placeholder left without HPO says what fills it', () => {
    let err: { code?: string; message?: string; hint?: string } = {};
    try {
      effectiveOptions({ options: stageOptions(), upstream: {} });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe('TRAIN_OPTIONS_INVALID');
    expect(err.message).toBe('model.layers[0].dense.units is still "${params.units}"');
    expect(err.hint).toMatch(/filled by HPO trials/);
  });

  test('a training task that needs an HPO stage trains with its best parameters', async () => {
    const r = await train(small({ epochs: 2 }), { upstream: { hpo: hpo({ 'model.layers.0.dense.units': 5, 'optimizer.adam.lr': 0.01 }) } });
    expect(r.outcome, r.error?.message).toBe('completed');
    // 8 inputs -> 5 units -> batchNorm (2 x 5 trainable) -> 1.
    expect(r.result?.params).toBe(8 * 5 + 5 + 10 + 5 + 1);
    expect(r.result?.bestParams).toEqual({ 'model.layers.0.dense.units': 5, 'optimizer.adam.lr': 0.01 });
    expect(r.logs.some((l) => /adam lr 0.01/.test(l.message))).toBe(true);
  });

  test('reads the Arrow series of its upstream download task; missing upstream data fails clearly', async () => {
    const dir = (await train(small({ epochs: 1 }))).dir;
    const file = join(dir, 'AAA.arrow');
    await writeSeries(file, syntheticSeries(800, 3) as never, { symbol: 'AAA' });
    const download: UpstreamTask = { id: 'download/symbol=AAA/cycle=1', stage: 'download', cell: { symbol: 'AAA' }, result: { file, rows: 800 }, artifactDir: dir };
    const opts = small({ epochs: 2, data: { synthetic: undefined as never } });
    delete (opts.data as Record<string, unknown>).synthetic;
    const fromFile = await train(opts, { upstream: { download } });
    const fromSynthetic = await train(small({ epochs: 2 }));
    expect(fromFile.result?.model.sha256).toEqual(fromSynthetic.result?.model.sha256);

    expectFailure(await train(opts), 'TRAIN_UPSTREAM_MISSING', 'data.from is "download" but this task has no completed upstream stage "download" (upstream: none)');
    expectFailure(
      await train(opts, { upstream: { download: [download, download] } }),
      'TRAIN_UPSTREAM_MISSING',
      /data.from "download" has 2 tasks for this cell/,
    );
    expectFailure(await train(opts, { upstream: { download: { ...download, result: { rows: 1 } } } }), 'TRAIN_UPSTREAM_MISSING', /has no "file" \(result keys: rows\)/);
    expectFailure(
      await train(opts, { upstream: { download: { ...download, result: { file: join(dir, 'missing.arrow') } } } }),
      'TRAIN_DATA_INVALID',
      /^cannot read the series .*missing.arrow: ENOENT/,
    );
    // The label horizon can come from the task's matrix cell.
    const cell = await train(small({ epochs: 1, data: { label: { forwardReturn: 'horizon' } } }), { task: { cell: { symbol: 'AAA', horizon: 5 } } });
    expect(cell.result?.samples.train).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(cell.result!.normaliser, 'utf8')).label).toEqual({ kind: 'forwardReturn', horizon: 5 });
  });
});
