/**
 * The job spec's JSON schema: the single source of its keys, types, defaults and descriptions.
 * `schema/job-spec.schema.json` is generated from it (plus each built-in plugin's options schema)
 * for editor completion; a test keeps the file current.
 */
import type { JSONSchema } from '../plugin/types.js';

/** Node's timers hold at most 2^31−1 ms; a longer one fires at once. */
export const MAX_DURATION_MS = 2_147_483_647;
/** Worker threads are started on demand, but each one costs memory and an LMDB reader slot. */
export const MAX_THREADS = 256;

const durationMs = (description: string, def: number, minimum = 0): JSONSchema => ({
  type: 'integer',
  minimum,
  maximum: MAX_DURATION_MS,
  default: def,
  description,
});

export const retriesSchema: JSONSchema = {
  type: 'object',
  description: 'How often a failed task is retried, and how long to wait in between.',
  additionalProperties: false,
  default: {},
  properties: {
    max: { type: 'integer', minimum: 0, default: 0, description: 'Retries after the first failure (0 = fail at once).' },
    backoff: {
      type: 'object',
      description: 'Exponential backoff between retries: initialMs × factor^(n-1), capped at maxMs.',
      additionalProperties: false,
      default: {},
      properties: {
        initialMs: durationMs('Wait before the first retry, in milliseconds.', 1000),
        factor: { type: 'number', minimum: 1, default: 2, description: 'Multiplier per further retry.' },
        maxMs: durationMs('Longest wait between retries, in milliseconds.', 300_000),
      },
    },
  },
};

function withoutDefault(schema: JSONSchema, description: string): JSONSchema {
  const { default: _unused, ...rest } = schema;
  return { ...rest, description };
}

const scalar: JSONSchema = { type: ['string', 'number', 'boolean'] };

export const stageSchema: JSONSchema = {
  type: 'object',
  description: 'One step of the pipeline, run once per matrix cell (or per the keys in `per`).',
  additionalProperties: false,
  required: ['id', 'plugin'],
  properties: {
    id: {
      type: 'string',
      pattern: '^[A-Za-z][A-Za-z0-9_-]*$',
      description: 'Stage id, used in task ids and `needs`. Letters, digits, _ and -.',
    },
    plugin: {
      type: 'string',
      minLength: 1,
      description: 'Plugin name (built-in or listed under `plugins:`), a package name, or a path to a plugin module.',
    },
    description: { type: 'string', description: 'Free text shown by `runner status`.' },
    needs: {
      type: 'array',
      items: { type: 'string' },
      uniqueItems: true,
      default: [],
      description: 'Stages that must complete first, within the same matrix cell.',
    },
    per: {
      type: 'array',
      items: { type: 'string' },
      uniqueItems: true,
      description: 'Run this stage only over these matrix keys (e.g. [symbol] to download once per symbol). Default: all keys.',
    },
    options: { type: 'object', default: {}, description: "The plugin's options; see `runner plugins` for each plugin's keys." },
    retries: withoutDefault(retriesSchema, 'Retries for this stage; overrides the job-level `retries`.'),
    resources: {
      type: 'object',
      additionalProperties: { type: 'integer', minimum: 0 },
      default: {},
      description: 'Resources one task holds while it runs, e.g. { gpu: 1 }, against host capacity (--gpus).',
    },
    isolation: {
      enum: ['thread', 'process'],
      description: "Run tasks in worker threads or one child process each. Default: the plugin's choice, else `pool.isolation`.",
    },
    timeoutMs: { type: 'integer', minimum: 1, maximum: MAX_DURATION_MS, description: 'Cancel a task that runs longer than this (counts as a failure).' },
  },
};

export const coreSchema: JSONSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://runner.dev/schema/job-spec.json',
  title: 'runner job spec',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'stages'],
  properties: {
    $schema: { type: 'string', description: 'JSON schema reference for editors.' },
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
      description: 'Run name; the store lives in <runsDir>/<name>/. Letters, digits, ., _ and -.',
    },
    description: { type: 'string', description: 'Free text shown by `runner status`.' },
    matrix: {
      type: 'object',
      default: {},
      additionalProperties: { type: 'array', items: scalar, minItems: 1, uniqueItems: true },
      description: 'Keys and values to expand into cells, e.g. { symbol: [AAPL, MSFT], horizon: [1, 5] }. Each stage runs once per cell.',
    },
    cycle: {
      anyOf: [
        { type: 'integer', minimum: 0 },
        { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, uniqueItems: true },
      ],
      default: 1,
      description: 'Cycle number (or list of them) for periodic re-runs; part of every task id. Bump it to start a new cycle.',
    },
    pool: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The worker pool.',
      properties: {
        threads: { type: 'integer', minimum: 1, maximum: MAX_THREADS, description: `Tasks running at once (at most ${MAX_THREADS}). Default: the number of CPU cores.` },
        gpus: { type: 'integer', minimum: 0, default: 0, description: 'GPUs on this host, for stages with resources: { gpu: n }. Also --gpus.' },
        isolation: { enum: ['thread', 'process'], default: 'thread', description: 'Default isolation: worker threads, or one child process per task.' },
        maxOldGenerationSizeMb: { type: 'integer', minimum: 16, description: 'Heap limit per worker thread, in MB.' },
      },
    },
    runsDir: { type: 'string', default: 'runs', description: 'Where run stores live, relative to the project root.' },
    dataDir: { type: 'string', default: 'data', description: 'Data shared across runs (downloads), relative to the project root.' },
    plugins: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'Extra plugins: package names or paths to plugin modules (relative to the spec).',
    },
    checkpoints: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Checkpoint retention.',
      properties: {
        keep: { type: 'integer', minimum: 1, default: 3, description: 'Checkpoints kept per unfinished task (newest first).' },
        keepOnComplete: { type: 'integer', minimum: 0, default: 1, description: 'Checkpoints kept once a task completes; 1 lets a raised target (epochs, trials) resume.' },
        inlineMaxBytes: { type: 'integer', minimum: 0, default: 65536, description: 'Payloads up to this size live in the store; larger ones in files under artifacts/.' },
      },
    },
    retries: retriesSchema,
    lease: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'How runners prove they are alive.',
      properties: {
        ttlMs: durationMs('A runner whose heartbeat is older than this is considered gone (other hosts; on this host the pid is checked).', 30_000, 1000),
        heartbeatMs: durationMs('How often a runner renews its lease and checks for cancel requests.', 1000, 50),
      },
    },
    cancel: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Cancellation.',
      properties: {
        graceMs: durationMs('How long a cancelled task may take to save its checkpoint before its thread is aborted.', 10_000),
      },
    },
    pluginDefaults: {
      type: 'object',
      default: {},
      additionalProperties: { type: 'object' },
      description: "Default options per plugin name, merged under each stage's options.",
    },
    stages: { type: 'array', minItems: 1, items: stageSchema, description: 'The pipeline.' },
  },
};

/** Keys a project config (`runner.config.*`, `.runnerrc*`, `package.json#runner`) may set. */
export const PROJECT_KEYS = ['runsDir', 'dataDir', 'pool', 'plugins', 'checkpoints', 'retries', 'lease', 'cancel', 'pluginDefaults'] as const;

export const projectSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(
    PROJECT_KEYS.map((k) => {
      const s = (coreSchema.properties as Record<string, JSONSchema>)[k] as JSONSchema;
      return [k, withoutDefault(s, String(s.description ?? ''))];
    }),
  ),
};
