import type { JSONSchema } from '@runner/core';

const positiveBound = { type: 'number', exclusiveMinimum: 0, description: 'A log-scaled range needs bounds above 0.' };

/** One parameter of the search space: `{ float: [low, high] }`, `{ int: [low, high] }` or `{ choice: [...] }`. */
const paramSchema: JSONSchema = {
  type: 'object',
  description:
    'A parameter: { float: [low, high], log?, step? }, { int: [low, high], log?, step? } or { choice: [a, b, ...] }. ' +
    'Its name is a `${params.NAME}` placeholder in the objective stage options, or a dotted option path such as optimizer.adam.lr.',
  additionalProperties: false,
  properties: {
    float: range('number', 'Real-valued range [low, high] (low ≤ high).'),
    int: range('integer', 'Integer range [low, high] (low ≤ high).'),
    choice: {
      type: 'array',
      description: 'The values to choose from (at least one, no repeats).',
      items: { type: ['string', 'number', 'boolean', 'null'] },
      minItems: 1,
      uniqueItems: true,
    },
    log: { type: 'boolean', default: false, description: 'Sample on a log scale (bounds must be above 0; for int, low ≥ 1).' },
    step: { type: 'number', exclusiveMinimum: 0, description: 'Only values low + k·step (for int, a positive integer; not with log).' },
  },
  oneOf: [{ required: ['float'] }, { required: ['int'] }, { required: ['choice'] }],
  allOf: [
    {
      if: { properties: { log: { const: true }, float: { type: 'array' } }, required: ['log', 'float'] },
      then: { properties: { float: { items: [positiveBound, positiveBound] } } },
    },
    {
      if: { properties: { log: { const: true }, int: { type: 'array' } }, required: ['log', 'int'] },
      then: { properties: { int: { items: [{ type: 'integer', minimum: 1, description: 'A log-scaled int range needs low ≥ 1.' }, { type: 'integer', minimum: 1 }] } } },
    },
    {
      if: { required: ['int'] },
      then: { properties: { step: { type: 'integer', minimum: 1, description: 'An int step is a positive integer.' } } },
    },
  ],
};

/** The hpo stage's options. Every option has a description and a default (space and objective are required). */

/** A `[low, high]` pair of numbers or integers. */
function range(type: 'number' | 'integer', description: string): JSONSchema {
  return {
    type: 'array',
    description,
    items: [
      { type, description: 'low' },
      { type, description: 'high' },
    ],
    minItems: 2,
    maxItems: 2,
  };
}

export const hpoSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['space', 'objective'],
  properties: {
    trials: {
      type: 'integer',
      minimum: 1,
      default: 100,
      description: 'Target number of finished (complete + pruned) trials per study. Resume-safe: raising it continues a completed study.',
    },
    parallel: { type: 'integer', minimum: 1, default: 1, description: 'Trials in flight at once, each a child task on the pool.' },
    direction: { type: 'string', enum: ['minimize', 'maximize'], default: 'minimize', description: 'Whether a lower or a higher metric is better.' },
    timeout: { type: 'integer', minimum: 1, description: 'Stop starting trials after this many milliseconds of one attempt (trials in flight finish).' },
    studyName: { type: 'string', minLength: 1, description: 'Name of the study. Default: the task id, e.g. hpo/symbol=AAPL/horizon=5/cycle=2.' },
    sampler: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: "How trials are chosen: tpe (an improved TPE by default, or Optuna 3.1's with preset: optuna-3.1), gp (a Gaussian process), auto (gp or tpe by the space and the budget), random, or grid.",
      properties: {
        type: { type: 'string', enum: ['tpe', 'gp', 'auto', 'random', 'grid'], default: 'tpe', description: 'tpe | gp | auto | random | grid.' },
        seed: { type: 'integer', description: 'Seed (mixed with the study name). Default: a random seed, stored with the study.' },
        preset: {
          type: 'string',
          enum: ['default', 'optuna-3.1'],
          default: 'default',
          description: "TPE: the base settings: default (see Samplers), or optuna-3.1 (exactly Optuna 3.1's TPESampler). The TPE settings given here override the preset's.",
        },
        multivariate: { type: 'boolean', description: 'TPE: model the parameters jointly (one kernel per observation). Default: true (preset optuna-3.1: false).' },
        univariateShare: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          description: 'TPE, multivariate: share of trials sampled by the univariate model instead, spread evenly. Default: 0.5 (preset optuna-3.1: 0).',
        },
        bandwidth: {
          type: 'string',
          enum: ['scott', 'optuna'],
          description: "TPE, multivariate: kernel widths by Scott's rule per parameter, or Optuna's fixed rule. Default: scott (preset optuna-3.1: optuna).",
        },
        weighting: {
          type: 'string',
          enum: ['ei', 'optuna'],
          description: 'TPE: weigh good trials by how much they improve on the best bad one (ei), or equally (optuna). Default: ei (preset optuna-3.1: optuna).',
        },
        magicClipExponent: {
          type: 'number',
          exclusiveMinimum: 0,
          description: 'TPE: the magic clip floors kernel widths at range / min(100, (1 + kernels)^this). Default: 1.25 (preset optuna-3.1: 1).',
        },
        startup: {
          type: 'string',
          enum: ['halton', 'random'],
          description: 'TPE: the startup trials are points of a scrambled Halton sequence, or random. Default: halton (preset optuna-3.1: random).',
        },
        startupTrials: { type: 'integer', minimum: 0, default: 10, description: 'TPE and GP: trials before the model is used (n_startup_trials).' },
        candidates: { type: 'integer', minimum: 1, default: 24, description: 'TPE: candidates drawn per suggestion (n_ei_candidates).' },
        gamma: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.1, description: 'TPE: fraction of trials in the good group, γ(n) = min(⌈gamma·n⌉, gammaMax).' },
        gammaMax: { type: 'integer', minimum: 1, default: 25, description: 'TPE: cap on the good group.' },
        priorWeight: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'TPE: weight of the prior component.' },
        categoricalPriorWeight: {
          type: 'number',
          exclusiveMinimum: 0,
          description: 'TPE: the prior weight inside categorical kernels (mass on the choices a kernel does not hold); higher keeps unexplored choices alive. Default: priorWeight.',
        },
        considerEndpoints: { type: 'boolean', default: false, description: 'TPE: let the range ends widen the outer kernels.' },
        considerMagicClip: { type: 'boolean', default: true, description: 'TPE: floor the kernel widths (Bergstra et al.).' },
        constantLiar: { type: 'boolean', default: true, description: 'TPE: count running trials as bad ones, so parallel trials spread out.' },
        kernelDensity: {
          type: 'string',
          enum: ['optuna-3.1', 'exact'],
          default: 'optuna-3.1',
          description: "TPE: evaluate kernels as Optuna 3.1 does (each weighs in proportion to its width), or with the normalised density ('exact').",
        },
        gridPoints: { type: 'integer', minimum: 1, default: 5, description: 'Grid: values per continuous parameter (discrete ones up to 64 values are enumerated).' },
      },
    },
    pruner: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Stops unpromising trials early from the metric the objective reports per epoch.',
      properties: {
        type: { type: 'string', enum: ['none', 'median', 'percentile', 'successive-halving', 'hyperband'], default: 'none', description: 'none | median | percentile | successive-halving | hyperband.' },
        percentile: { type: 'number', minimum: 0, maximum: 100, default: 25, description: 'percentile: keep trials within this best percentile at the same step.' },
        startupTrials: { type: 'integer', minimum: 0, default: 5, description: 'median/percentile: no pruning until this many trials completed.' },
        warmupSteps: { type: 'integer', minimum: 0, default: 0, description: 'median/percentile: no pruning before this step (epoch).' },
        intervalSteps: { type: 'integer', minimum: 1, default: 1, description: 'median/percentile: check every this many steps.' },
        minTrials: { type: 'integer', minimum: 1, default: 1, description: 'median/percentile: completed trials needed at a step to compare against.' },
        minResource: {
          anyOf: [{ type: 'integer', minimum: 1 }, { const: 'auto' }],
          description: "successive-halving/hyperband: steps before the first rung ('auto' for successive halving; hyperband default 1).",
        },
        maxResource: { anyOf: [{ type: 'integer', minimum: 1 }, { const: 'auto' }], default: 'auto', description: "hyperband: steps of a full trial ('auto' = from the first completed trial)." },
        reductionFactor: { type: 'integer', minimum: 2, description: 'successive-halving (default 4) / hyperband (default 3): keep 1 in this many at each rung.' },
        minEarlyStoppingRate: { type: 'integer', minimum: 0, default: 0, description: 'successive-halving: shifts the first rung.' },
        bootstrapCount: { type: 'integer', minimum: 0, default: 0, description: 'successive-halving/hyperband: trials a rung needs before it promotes.' },
      },
    },
    warmStart: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: "Start a cycle's study from the previous cycle's study of the same cell.",
      properties: {
        fromCycle: {
          anyOf: [{ type: 'string', enum: ['previous', 'none'] }, { type: 'integer' }],
          default: 'previous',
          description: "previous (the latest earlier cycle with a study), a cycle number, or none.",
        },
        topK: { type: 'integer', minimum: 0, default: 10, description: 'Run the best K parameter sets of that study first.' },
        history: { type: 'boolean', default: false, description: "Also feed that study's finished trials to the sampler as observations." },
      },
    },
    space: {
      type: 'object',
      minProperties: 1,
      description: 'The search space: parameter name → { float | int | choice }.',
      propertyNames: { pattern: '^[A-Za-z_][\\w.-]*$' },
      additionalProperties: paramSchema,
    },
    objective: {
      type: 'object',
      additionalProperties: false,
      description:
        'What a trial runs: the plugin of another stage (stage: train) or a plugin by name or path (plugin: ./my-objective.mjs), as a child task with the trial\'s parameters. ' +
        'It reports `metric` per epoch in `epoch` events and returns { metrics: { [metric]: value } }.',
      anyOf: [{ required: ['stage'] }, { required: ['plugin'] }],
      properties: {
        stage: { type: 'string', minLength: 1, description: 'Run this stage\'s plugin with its options (e.g. train).' },
        plugin: { type: 'string', minLength: 1, description: 'Or run this plugin: a package name, or a path relative to the project root (the folder with package.json).' },
        metric: { type: 'string', minLength: 1, default: 'val_loss', description: 'The metric to optimise: result.metrics[metric], and metrics[metric] of each epoch event.' },
        options: { type: 'object', default: {}, description: 'Options merged over the stage\'s for every trial (e.g. fewer epochs).' },
        event: { type: 'string', minLength: 1, default: 'epoch', description: 'Name of the child events that carry { epoch, metrics } per step.' },
      },
    },
    onSpaceChange: {
      type: 'string',
      enum: ['error', 'new-study'],
      default: 'error',
      description: 'When the space differs from the stored study: stop with an error, or start a new study (the old one is kept).',
    },
    retryInterrupted: {
      type: 'integer',
      minimum: 0,
      default: 1,
      description:
        'Deprecated; accepted and ignored. An interrupted trial is always retried (same number, parameters and child task), however often the runner is killed; a trial whose child task keeps crashing the runner fails through the runner\'s quarantine (docs/resume.md).',
    },
    maxConsecutiveFailures: { type: 'integer', minimum: 1, default: 5, description: 'Stop the task when this many trials fail in a row.' },
  },
};

/** The target: raising it on a completed task reopens it, and its study continues. */
export const resumeSafe = ['trials'] as const;

/** How trials run, not what the study is: changing one neither reruns nor restarts anything. */
export const operational = ['parallel', 'timeout', 'pruner', 'onSpaceChange', 'retryInterrupted', 'maxConsecutiveFailures'] as const;
