/**
 * Models from config (Sequential-style layers, checked against the data shape first so that a
 * misfit names the layer and the shapes) or from a module's buildModel(tf, params, info), and
 * the optimizers with Keras' defaults.
 */
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LayersModel, Optimizer } from './tf-types.js';
import type { TF } from './backend.js';
import { modelInvalid, optionsInvalid } from './errors.js';
import type { LayerKind, LayerSpec, OptimizerSpec } from './schema.js';

type Shape = number[];

const fmt = (s: Shape) => `[${s.join(', ')}]`;

function kindOf(spec: LayerSpec): [LayerKind, Record<string, unknown>] {
  const [k, v] = Object.entries(spec)[0] as [LayerKind, Record<string, unknown>];
  return [k, v ?? {}];
}

/**
 * Walks the layer list with the per-sample input shape and returns the output shape, or throws a
 * TRAIN_MODEL_INVALID error naming the first layer that does not fit.
 */
export function inferShapes(layers: LayerSpec[], input: Shape, window: number): Shape[] {
  const shapes: Shape[] = [];
  let s = input;
  const seqHint = window > 1 ? '' : ' (data.window is 1, so each sample is a flat feature vector; set data.window > 1 for sequences)';
  for (const [i, spec] of layers.entries()) {
    const [kind, o] = kindOf(spec);
    const where = `model.layers[${i}] (${kind})`;
    const needSeq = () => {
      if (s.length !== 2) {
        throw modelInvalid(
          `${where} needs sequences of shape [steps, features] but gets ${fmt(s)} per sample${s.length === 1 ? seqHint : ''}`,
          s.length === 1 ? 'Use data.window > 1, or put dense layers first.' : 'Add a flatten or global pooling layer before it, or reshape your stack.',
        );
      }
    };
    switch (kind) {
      case 'dense':
        s = [...s.slice(0, -1), o.units as number];
        break;
      case 'dropout':
      case 'batchNorm':
        break;
      case 'lstm':
      case 'gru':
        needSeq();
        s = o.returnSequences ? [s[0]!, o.units as number] : [o.units as number];
        break;
      case 'conv1d': {
        needSeq();
        const k = o.kernelSize as number;
        const st = (o.strides as number) ?? 1;
        const steps = o.padding === 'same' ? Math.ceil(s[0]! / st) : Math.floor((s[0]! - k) / st) + 1;
        if (steps < 1) {
          throw modelInvalid(`${where} has kernelSize ${k} but gets only ${s[0]} steps (input ${fmt(s)})`, `Use kernelSize <= ${s[0]}, padding: same, or a larger data.window.`);
        }
        s = [steps, o.filters as number];
        break;
      }
      case 'pooling': {
        needSeq();
        if (o.global) {
          s = [s[1]!];
          break;
        }
        const size = (o.size as number) ?? 2;
        const st = (o.strides as number) ?? size;
        const steps = o.padding === 'same' ? Math.ceil(s[0]! / st) : Math.floor((s[0]! - size) / st) + 1;
        if (steps < 1) {
          throw modelInvalid(`${where} pools ${size} steps but gets only ${s[0]} (input ${fmt(s)})`, `Use size <= ${s[0]}, padding: same, or global: true.`);
        }
        s = [steps, s[1]!];
        break;
      }
      case 'flatten':
        if (s.length < 2) throw modelInvalid(`${where} gets ${fmt(s)} per sample, which is already flat`, 'Remove the flatten layer.');
        s = [s.reduce((a, b) => a * b, 1)];
        break;
    }
    shapes.push(s);
  }
  const out = shapes.at(-1)!;
  if (out.length !== 1 || out[0] !== 1) {
    const last = layers.length - 1;
    throw modelInvalid(
      `model.layers[${last}] (${kindOf(layers[last]!)[0]}) outputs ${fmt(out)} per sample but the label is one value ([1])`,
      out.length > 1
        ? 'End with flatten (or returnSequences: false / global pooling) and then { dense: { units: 1 } }.'
        : 'End with { dense: { units: 1 } }.',
    );
  }
  return shapes;
}

/** Builds a Sequential model from layer specs (the trainer seeds dropout, including recurrent dropout, per batch). */
export function buildLayersModel(tf: TF, layers: LayerSpec[], inputShape: Shape, window: number): LayersModel {
  inferShapes(layers, inputShape, window);
  // Names from the config, not TF.js's process-wide counters (dense_Dense3 in one process,
  // dense_Dense1 in another), so that identical runs write identical model.json files.
  const model = tf.sequential({ name: 'model' });
  for (const [i, spec] of layers.entries()) {
    const [kind, o] = kindOf(spec);
    const first = { ...(i === 0 ? { inputShape } : {}), name: `${kind.toLowerCase()}_${i}` };
    const reg = (o.l2 as number) > 0 ? { kernelRegularizer: tf.regularizers.l2({ l2: o.l2 as number }) } : {};
    try {
      switch (kind) {
        case 'dense':
          model.add(tf.layers.dense({ ...first, units: o.units as number, activation: o.activation as never, useBias: o.useBias as boolean, ...reg }));
          break;
        case 'dropout':
          model.add(tf.layers.dropout({ ...first, rate: o.rate as number }));
          break;
        case 'batchNorm':
          model.add(tf.layers.batchNormalization({ ...first, momentum: o.momentum as number, epsilon: o.epsilon as number }));
          break;
        case 'lstm':
        case 'gru': {
          const args = {
            ...first,
            units: o.units as number,
            returnSequences: o.returnSequences as boolean,
            activation: o.activation as never,
            dropout: o.dropout as number,
            recurrentDropout: o.recurrentDropout as number,
            ...reg,
          };
          model.add(kind === 'lstm' ? tf.layers.lstm(args) : tf.layers.gru(args));
          break;
        }
        case 'conv1d':
          model.add(
            tf.layers.conv1d({
              ...first,
              filters: o.filters as number,
              kernelSize: o.kernelSize as number,
              strides: o.strides as number,
              padding: o.padding as 'valid' | 'same',
              activation: o.activation as never,
              ...reg,
            }),
          );
          break;
        case 'pooling': {
          const avg = o.type === 'avg';
          if (o.global) model.add(avg ? tf.layers.globalAveragePooling1d(first) : tf.layers.globalMaxPooling1d(first));
          else {
            const args = { ...first, poolSize: o.size as number, strides: (o.strides as number | undefined) ?? (o.size as number), padding: o.padding as 'valid' | 'same' };
            model.add(avg ? tf.layers.averagePooling1d(args) : tf.layers.maxPooling1d(args));
          }
          break;
        }
        case 'flatten':
          model.add(tf.layers.flatten(first));
          break;
      }
    } catch (err) {
      model.dispose();
      throw modelInvalid(`model.layers[${i}] (${kind}) could not be built: ${(err as Error).message}`, 'Check the layer settings against docs/train.md.', err);
    }
  }
  return model;
}

/** What a custom buildModel receives besides tf and params. */
export interface BuildModelInfo {
  /** Per-sample input shape: [features] or [window, features]. */
  inputShape: number[];
  /** Values the model must output per sample (1). */
  outputUnits: number;
  seed: number;
  features: string[];
}

export type BuildModel = (tf: TF, params: Record<string, unknown>, info: BuildModelInfo) => LayersModel | Promise<LayersModel>;

export async function loadBuildModel(ref: string): Promise<BuildModel> {
  let url: string;
  if (ref.startsWith('.') || isAbsolute(ref) || /\.(m?js|cjs)$/.test(ref)) url = pathToFileURL(resolve(process.cwd(), ref)).href;
  else {
    try {
      url = pathToFileURL(createRequire(join(process.cwd(), 'noop.js')).resolve(ref)).href;
    } catch {
      throw optionsInvalid(`model.plugin: cannot find module "${ref}" from ${process.cwd()}`, 'Give a path (./models/my-model.mjs) or an installed package name.');
    }
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw optionsInvalid(`model.plugin: "${ref}" failed to load: ${(err as Error).message}`, 'Check the path (relative to the working directory) and that the module imports cleanly.');
  }
  const fn = (mod.buildModel ?? (mod.default as Record<string, unknown> | undefined)?.buildModel ?? mod.default) as unknown;
  if (typeof fn !== 'function') {
    throw optionsInvalid(`model.plugin: "${ref}" exports no buildModel function`, 'Export `function buildModel(tf, params, info)` returning an uncompiled tf.LayersModel.');
  }
  return fn as BuildModel;
}

/** Checks a custom model's input and output against the data. */
export function checkCustomModel(model: LayersModel, info: BuildModelInfo, ref: string): void {
  const ins = model.inputs.map((t) => t.shape.slice(1));
  const outs = model.outputs.map((t) => t.shape.slice(1));
  if (ins.length !== 1 || ins[0]!.join() !== info.inputShape.join()) {
    throw modelInvalid(
      `model.plugin ${ref}: the model takes ${ins.map((s) => fmt(s as number[])).join(', ')} per sample but the data gives ${fmt(info.inputShape)}`,
      'Build the first layer with inputShape: info.inputShape.',
    );
  }
  if (outs.length !== 1 || outs[0]!.join() !== String(info.outputUnits)) {
    throw modelInvalid(`model.plugin ${ref}: the model outputs ${outs.map((s) => fmt(s as number[])).join(', ')} per sample but the label is one value ([1])`, 'End with a dense layer of 1 unit.');
  }
}

export function optimizerName(spec: OptimizerSpec): keyof OptimizerSpec {
  return Object.keys(spec)[0] as keyof OptimizerSpec;
}

export function learningRateOf(spec: OptimizerSpec): number {
  const name = optimizerName(spec);
  return (spec[name] as { lr: number }).lr;
}

export function createOptimizer(tf: TF, spec: OptimizerSpec): Optimizer {
  const name = optimizerName(spec);
  switch (name) {
    case 'adam': {
      const o = spec.adam!;
      return tf.train.adam(o.lr, o.beta1, o.beta2, o.epsilon);
    }
    case 'sgd': {
      const o = spec.sgd!;
      return o.momentum > 0 ? tf.train.momentum(o.lr, o.momentum, o.nesterov) : tf.train.sgd(o.lr);
    }
    case 'rmsprop': {
      const o = spec.rmsprop!;
      return tf.train.rmsprop(o.lr, o.rho, o.momentum, o.epsilon, o.centered);
    }
    case 'adagrad': {
      const o = spec.adagrad!;
      return tf.train.adagrad(o.lr, o.initialAccumulatorValue);
    }
    case 'adadelta': {
      const o = spec.adadelta!;
      return tf.train.adadelta(o.lr, o.rho, o.epsilon);
    }
  }
}

/** Sets the learning rate of any tfjs optimizer (SGD keeps it in a scalar tensor). */
export function setLearningRate(opt: Optimizer, lr: number): void {
  const o = opt as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}
