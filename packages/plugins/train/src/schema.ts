/**
 * The trainer's options: the JSON schema (single source of defaults and descriptions) and the
 * matching TypeScript types. Objects that pick one of several kinds (a layer, an optimizer) are
 * objects with exactly one key, so that validation errors point at the exact field and
 * `${params.NAME}` placeholders anywhere inside them pass config validation.
 */
import type { JSONSchema } from '@runner/core';

export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu', 'webgpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export const ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh', 'softmax', 'softplus', 'softsign', 'gelu', 'mish', 'swish'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** Loss names as users know them from Keras, mapped to tfjs-layers' names. */
export const LOSSES = {
  mse: 'meanSquaredError',
  mae: 'meanAbsoluteError',
  mape: 'meanAbsolutePercentageError',
  msle: 'meanSquaredLogarithmicError',
  logcosh: 'logcosh',
  huber: 'logcosh',
  binaryCrossentropy: 'binaryCrossentropy',
  hinge: 'hinge',
  squaredHinge: 'squaredHinge',
  poisson: 'poisson',
} as const;
export type LossName = keyof typeof LOSSES;

export const METRICS = ['mae', 'mse', 'mape', 'binaryAccuracy'] as const;
export type MetricName = (typeof METRICS)[number];

export type FeatureSpec =
  | { returns: number | number[] }
  | { smaRatio: number | number[] }
  | { emaRatio: number | number[] }
  | { rsi: number | number[] }
  | { volatility: number | number[] }
  | { volumeZ: number | number[] }
  | { range: number | number[] };

export interface DenseSpec {
  units: number;
  activation: Activation;
  useBias: boolean;
  l2: number;
}
export interface DropoutSpec {
  rate: number;
}
export interface BatchNormSpec {
  momentum: number;
  epsilon: number;
}
export interface RecurrentSpec {
  units: number;
  returnSequences: boolean;
  activation: Activation;
  dropout: number;
  recurrentDropout: number;
  l2: number;
}
export interface Conv1dSpec {
  filters: number;
  kernelSize: number;
  strides: number;
  padding: 'valid' | 'same';
  activation: Activation;
  l2: number;
}
export interface PoolingSpec {
  type: 'max' | 'avg';
  size: number;
  strides?: number;
  padding: 'valid' | 'same';
  global: boolean;
}
export type LayerSpec =
  | { dense: DenseSpec }
  | { dropout: DropoutSpec }
  | { batchNorm: BatchNormSpec }
  | { lstm: RecurrentSpec }
  | { gru: RecurrentSpec }
  | { conv1d: Conv1dSpec }
  | { pooling: PoolingSpec }
  | { flatten: Record<string, never> };
export const LAYER_KINDS = ['dense', 'dropout', 'batchNorm', 'lstm', 'gru', 'conv1d', 'pooling', 'flatten'] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];

export interface OptimizerSpec {
  adam?: { lr: number; beta1: number; beta2: number; epsilon: number };
  sgd?: { lr: number; momentum: number; nesterov: boolean };
  rmsprop?: { lr: number; rho: number; momentum: number; epsilon: number; centered: boolean };
  adagrad?: { lr: number; initialAccumulatorValue: number };
  adadelta?: { lr: number; rho: number; epsilon: number };
}

export interface EarlyStoppingSpec {
  monitor: string;
  patience: number;
  minDelta: number;
  mode: 'auto' | 'min' | 'max';
  baseline?: number;
  restoreBest: boolean;
  startFromEpoch: number;
}

export interface ReduceLrSpec {
  monitor: string;
  factor: number;
  patience: number;
  minDelta: number;
  mode: 'auto' | 'min' | 'max';
  cooldown: number;
  minLr: number;
}

export interface TrainOptions {
  data: {
    from: string;
    file?: string;
    synthetic?: { rows: number; seed: number };
    features: FeatureSpec[];
    label: { forwardReturn: number | string } | { direction: number | string };
    split: { val: number; gap: number | 'auto'; test?: number };
    window: number;
    normalise: 'zscore' | 'minmax' | 'none';
  };
  model: {
    layers: LayerSpec[];
    plugin?: string;
    params: Record<string, unknown>;
  };
  optimizer: OptimizerSpec;
  loss: LossName;
  metrics: MetricName[];
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  checkpointEvery: number;
  earlyStopping?: EarlyStoppingSpec;
  reduceLrOnPlateau?: ReduceLrSpec;
  stopOnNaN: boolean;
  backend: BackendName;
  gpuAllowGrowth: boolean;
  seed: number;
}

const periods = (what: string): JSONSchema => ({
  description: `${what}; one period or a list of periods (bars).`,
  anyOf: [
    { type: 'integer', minimum: 1 },
    { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1 },
  ],
});

const activation = (def: Activation): JSONSchema => ({
  type: 'string',
  enum: [...ACTIVATIONS],
  default: def,
  description: 'Activation function.',
});

const l2: JSONSchema = { type: 'number', minimum: 0, default: 0, description: 'L2 weight penalty on the kernel (0 = none).' };

const recurrent = (name: string): JSONSchema => ({
  type: 'object',
  additionalProperties: false,
  required: ['units'],
  description: `${name} layer over [steps, features] sequences (needs data.window > 1).`,
  properties: {
    units: { type: 'integer', minimum: 1, description: 'Size of the hidden state.' },
    returnSequences: { type: 'boolean', default: false, description: 'Output every step ([steps, units]) instead of the last one; set it to stack recurrent layers.' },
    activation: activation('tanh'),
    dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0, description: 'Dropout rate on the inputs (seeded, so resume stays exact).' },
    recurrentDropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0, description: 'Dropout rate on the recurrent state (seeded).' },
    l2,
  },
});

const monitorMode: JSONSchema = {
  type: 'string',
  enum: ['auto', 'min', 'max'],
  default: 'auto',
  description: 'Whether the monitored value should go down (min) or up (max); auto: max for accuracies, else min.',
};

export const schema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    data: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Where the series comes from and how samples are built from it.',
      properties: {
        from: {
          type: 'string',
          default: 'download',
          description: "The upstream stage (in needs) whose result has `file`, an Arrow series with time, open, high, low, close and volume columns.",
        },
        file: { type: 'string', description: 'Read this Arrow series file instead of an upstream result (absolute, or relative to the working directory).' },
        synthetic: {
          type: 'object',
          additionalProperties: false,
          description: 'Generate a synthetic OHLCV series instead (for trying things out and benchmarks).',
          properties: {
            rows: { type: 'integer', minimum: 100, default: 5000, description: 'Number of bars.' },
            seed: { type: 'integer', default: 1, description: 'Seed of the random walk.' },
          },
        },
        features: {
          type: 'array',
          minItems: 1,
          default: [{ returns: [1, 5, 20] }, { smaRatio: [10, 50] }, { rsi: 14 }, { volatility: 20 }, { volumeZ: 20 }],
          description: 'Features computed from the series, each `{ kind: period | [periods] }`; see docs/train.md for the definitions.',
          items: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            maxProperties: 1,
            properties: {
              returns: periods('Log return over the last N bars'),
              smaRatio: periods('close / SMA(N) - 1'),
              emaRatio: periods('close / EMA(N) - 1'),
              rsi: periods("Wilder's RSI(N), 0..100"),
              volatility: periods('Standard deviation of 1-bar log returns over N bars'),
              volumeZ: periods('z-score of volume against its last N bars'),
              range: periods('Mean of (high - low) / close over N bars'),
            },
          },
        },
        label: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          maxProperties: 1,
          default: { forwardReturn: 'horizon' },
          description: 'What the model predicts. A string names a matrix key of the task (e.g. horizon).',
          properties: {
            forwardReturn: {
              type: ['integer', 'string'],
              minimum: 1,
              description: 'Log return from this bar to N bars ahead (regression).',
            },
            direction: {
              type: ['integer', 'string'],
              minimum: 1,
              description: '1 if the close N bars ahead is higher, else 0 (classification; use binaryCrossentropy and a sigmoid output).',
            },
          },
        },
        split: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'Validation split by time: the last part of the samples, never shuffled across the split.',
          properties: {
            val: { type: 'number', minimum: 0, maximum: 0.9, default: 0.2, description: 'Fraction of samples (the most recent) used for validation; 0 = none.' },
            gap: {
              anyOf: [{ type: 'integer', minimum: 0 }, { const: 'auto' }],
              default: 'auto',
              description: 'Samples dropped between training and validation so that training labels do not look into the validation period; auto = the label horizon.',
            },
            test: {
              type: 'number',
              minimum: 0,
              maximum: 0.9,
              description:
                'Fraction of samples (the most recent, after validation) held out: never trained or validated on, so a backtest or paper replay can judge the model on unseen bars. The label horizon is dropped before them. Absent = 0.',
            },
          },
        },
        window: { type: 'integer', minimum: 1, default: 1, description: 'Bars per sample: 1 gives [features] for dense models; > 1 gives [window, features] sequences for lstm, gru and conv1d.' },
        normalise: {
          type: 'string',
          enum: ['zscore', 'minmax', 'none'],
          default: 'zscore',
          description: 'Feature scaling, fitted on the training part only and saved with the model.',
        },
      },
    },
    model: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The network: a list of layers, or a module that builds it.',
      properties: {
        layers: {
          type: 'array',
          minItems: 1,
          default: [{ dense: { units: 64, activation: 'relu' } }, { dense: { units: 1 } }],
          description: 'Sequential layers, each `{ kind: { ...settings } }`. The input shape comes from the data; the last layer must output one value.',
          items: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            maxProperties: 1,
            properties: {
              dense: {
                type: 'object',
                additionalProperties: false,
                required: ['units'],
                description: 'Fully connected layer.',
                properties: {
                  units: { type: 'integer', minimum: 1, description: 'Output size.' },
                  activation: activation('linear'),
                  useBias: { type: 'boolean', default: true, description: 'Add a bias vector.' },
                  l2,
                },
              },
              dropout: {
                type: 'object',
                additionalProperties: false,
                required: ['rate'],
                description: 'Randomly zeroes inputs while training (seeded per epoch and batch, so resume stays exact).',
                properties: { rate: { type: 'number', minimum: 0, exclusiveMaximum: 1, description: 'Fraction of inputs dropped.' } },
              },
              batchNorm: {
                type: 'object',
                additionalProperties: false,
                description: 'Batch normalisation.',
                properties: {
                  momentum: { type: 'number', minimum: 0, maximum: 1, default: 0.99, description: 'Momentum of the moving mean and variance.' },
                  epsilon: { type: 'number', exclusiveMinimum: 0, default: 0.001, description: 'Added to the variance.' },
                },
              },
              lstm: recurrent('LSTM'),
              gru: recurrent('GRU'),
              conv1d: {
                type: 'object',
                additionalProperties: false,
                required: ['filters', 'kernelSize'],
                description: '1D convolution over [steps, features] sequences (needs data.window > 1). Has no wasm gradient kernel: wasm falls back to cpu.',
                properties: {
                  filters: { type: 'integer', minimum: 1, description: 'Number of filters.' },
                  kernelSize: { type: 'integer', minimum: 1, description: 'Steps per filter.' },
                  strides: { type: 'integer', minimum: 1, default: 1, description: 'Step between windows.' },
                  padding: { type: 'string', enum: ['valid', 'same'], default: 'valid', description: 'valid: no padding; same: pad to keep the length.' },
                  activation: activation('linear'),
                  l2,
                },
              },
              pooling: {
                type: 'object',
                additionalProperties: false,
                description: 'Max or average pooling over steps; global pools all steps into one vector.',
                properties: {
                  type: { type: 'string', enum: ['max', 'avg'], default: 'max', description: 'max or avg.' },
                  size: { type: 'integer', minimum: 1, default: 2, description: 'Steps per pool.' },
                  strides: { type: 'integer', minimum: 1, description: 'Step between pools (default: size).' },
                  padding: { type: 'string', enum: ['valid', 'same'], default: 'valid', description: 'valid or same.' },
                  global: { type: 'boolean', default: false, description: 'Pool over all steps.' },
                },
              },
              flatten: { type: 'object', additionalProperties: false, properties: {}, description: 'Flattens [steps, features] into one vector. Write `flatten: {}`.' },
            },
          },
        },
        plugin: {
          type: 'string',
          description: 'A module exporting `buildModel(tf, params, info)` that returns an uncompiled tf.LayersModel; replaces layers. Path relative to the working directory, or a package name.',
        },
        params: { type: 'object', default: {}, description: 'Passed to the module\'s buildModel as `params`.' },
      },
    },
    optimizer: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      default: { adam: {} },
      description: 'The optimizer, `{ name: { settings } }`; Keras defaults.',
      properties: {
        adam: {
          type: 'object',
          additionalProperties: false,
          description: 'Adam.',
          properties: {
            lr: { type: 'number', exclusiveMinimum: 0, default: 0.001, description: 'Learning rate.' },
            beta1: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.9, description: 'Decay of the first moment.' },
            beta2: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.999, description: 'Decay of the second moment.' },
            epsilon: { type: 'number', exclusiveMinimum: 0, default: 1e-7, description: 'Numerical stability term.' },
          },
        },
        sgd: {
          type: 'object',
          additionalProperties: false,
          description: 'Stochastic gradient descent, with optional (Nesterov) momentum.',
          properties: {
            lr: { type: 'number', exclusiveMinimum: 0, default: 0.01, description: 'Learning rate.' },
            momentum: { type: 'number', minimum: 0, default: 0, description: 'Momentum (0 = plain SGD).' },
            nesterov: { type: 'boolean', default: false, description: 'Nesterov momentum.' },
          },
        },
        rmsprop: {
          type: 'object',
          additionalProperties: false,
          description: 'RMSprop.',
          properties: {
            lr: { type: 'number', exclusiveMinimum: 0, default: 0.001, description: 'Learning rate.' },
            rho: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.9, description: 'Decay of the moving average of squared gradients.' },
            momentum: { type: 'number', minimum: 0, default: 0, description: 'Momentum.' },
            epsilon: { type: 'number', exclusiveMinimum: 0, default: 1e-7, description: 'Numerical stability term.' },
            centered: { type: 'boolean', default: false, description: 'Normalise by the estimated variance of the gradient.' },
          },
        },
        adagrad: {
          type: 'object',
          additionalProperties: false,
          description: 'Adagrad.',
          properties: {
            lr: { type: 'number', exclusiveMinimum: 0, default: 0.001, description: 'Learning rate.' },
            initialAccumulatorValue: { type: 'number', exclusiveMinimum: 0, default: 0.1, description: 'Starting value of the accumulators.' },
          },
        },
        adadelta: {
          type: 'object',
          additionalProperties: false,
          description: 'Adadelta.',
          properties: {
            lr: { type: 'number', exclusiveMinimum: 0, default: 0.001, description: 'Learning rate.' },
            rho: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.95, description: 'Decay rate.' },
            epsilon: { type: 'number', exclusiveMinimum: 0, default: 1e-7, description: 'Numerical stability term.' },
          },
        },
      },
    },
    loss: { type: 'string', enum: Object.keys(LOSSES), default: 'mse', description: 'Loss to minimise (huber is an alias of logcosh).' },
    metrics: { type: 'array', items: { type: 'string', enum: [...METRICS] }, default: [], description: 'Extra metrics reported per epoch, on training and validation data (e.g. mae, val_mae).' },
    epochs: { type: 'integer', minimum: 1, default: 100, description: 'Epochs to train. Safe to raise later: a completed task reopens and resumes from its last checkpoint.' },
    batchSize: { type: 'integer', minimum: 1, default: 256, description: 'Samples per gradient step.' },
    shuffle: { type: 'boolean', default: true, description: 'Shuffle the training samples every epoch (seeded by seed and epoch; validation is never shuffled).' },
    checkpointEvery: {
      type: 'integer',
      minimum: 0,
      default: 5,
      description: 'Save a checkpoint every N epochs (0 = only on cancel, failure and completion).',
    },
    earlyStopping: {
      type: 'object',
      additionalProperties: false,
      description: 'Stop when the monitored value stops improving (omit to always train all epochs).',
      properties: {
        monitor: { type: 'string', default: 'val_loss', description: 'A history key: loss, val_loss, or a metric such as val_mae.' },
        patience: { type: 'integer', minimum: 0, default: 10, description: 'Epochs without improvement before stopping.' },
        minDelta: { type: 'number', minimum: 0, default: 0, description: 'Smallest change that counts as an improvement.' },
        mode: monitorMode,
        baseline: { type: 'number', description: 'Epochs count towards patience until the value beats this baseline (Keras semantics).' },
        restoreBest: {
          type: 'boolean',
          default: true,
          description: 'Hand over the weights of the best epoch at the end (whether or not training stopped early); the result metrics are then those of the best epoch.',
        },
        startFromEpoch: { type: 'integer', minimum: 0, default: 0, description: 'Epochs to wait before counting (warm-up).' },
      },
    },
    reduceLrOnPlateau: {
      type: 'object',
      additionalProperties: false,
      description: 'Multiply the learning rate by factor when the monitored value stops improving (omit to keep it constant).',
      properties: {
        monitor: { type: 'string', default: 'val_loss', description: 'A history key: loss, val_loss, or a metric.' },
        factor: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.1, description: 'New rate = rate × factor.' },
        patience: { type: 'integer', minimum: 0, default: 10, description: 'Epochs without improvement before reducing.' },
        minDelta: { type: 'number', minimum: 0, default: 0.0001, description: 'Smallest change that counts as an improvement.' },
        mode: monitorMode,
        cooldown: { type: 'integer', minimum: 0, default: 0, description: 'Epochs to wait after a reduction before counting again.' },
        minLr: { type: 'number', minimum: 0, default: 0, description: 'Lower bound of the learning rate.' },
      },
    },
    stopOnNaN: { type: 'boolean', default: true, description: 'Fail (not retryable) when the training loss becomes NaN or infinite.' },
    backend: {
      type: 'string',
      enum: [...BACKENDS],
      default: 'auto',
      description:
        'TensorFlow.js backend. auto tries tensorflow-gpu, tensorflow (when installed), then wasm, then cpu. Results are bit-identical across resumes on cpu and wasm.',
    },
    gpuAllowGrowth: { type: 'boolean', default: true, description: 'Set TF_FORCE_GPU_ALLOW_GROWTH=true for tensorflow-gpu, so that several processes can share a GPU.' },
    seed: { type: 'integer', default: 1, description: 'Seeds weight initialisation, shuffling and dropout.' },
  },
};

/**
 * Options that may change without invalidating checkpoints: raising epochs resumes a completed
 * task; the others do not change what a checkpoint holds.
 */
export const RESUME_SAFE = ['epochs', 'checkpointEvery', 'backend', 'gpuAllowGrowth', 'stopOnNaN'] as const;
