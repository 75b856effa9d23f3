/**
 * The plugin contract. A plugin is a module whose default export has this shape; wrapping it in
 * {@link definePlugin} only adds types.
 *
 * @example
 * ```ts
 * import { definePlugin } from '@runner/core';
 *
 * export default definePlugin({
 *   name: 'count',
 *   version: '1.0.0',
 *   schema: {
 *     type: 'object',
 *     properties: { to: { type: 'integer', minimum: 1, default: 100, description: 'Count up to this number.' } },
 *   },
 *   resumeSafe: ['to'],
 *   async run(ctx) {
 *     const saved = await ctx.checkpoint.load<{ i: number }>();
 *     for (let i = saved ? saved.state.i + 1 : 1; i <= ctx.options.to; i++) {
 *       ctx.signal.throwIfAborted();
 *       ctx.progress({ step: i, total: ctx.options.to });
 *       if (i % 10 === 0) await ctx.checkpoint.save({ i }, { step: i, total: ctx.options.to });
 *     }
 *     return { counted: ctx.options.to };
 *   },
 * });
 * ```
 */

/** A JSON schema object (draft 2020-12 subset understood by ajv). */
export type JSONSchema = Record<string, unknown>;

export type Scalar = string | number | boolean;

/** The matrix cell a task belongs to, e.g. `{ symbol: 'AAPL', horizon: 5 }`. */
export type Cell = Readonly<Record<string, Scalar>>;

export type CheckpointType = 'periodic' | 'cancellation' | 'failure' | 'final';

export interface TaskInfo {
  /** Stable id, e.g. `work/symbol=AAPL/horizon=1/cycle=2`. */
  readonly id: string;
  readonly stage: string;
  readonly plugin: string;
  readonly cell: Cell;
  readonly cycle: number;
  /** 1 on the first start; every start (including restarts after a crash) counts. */
  readonly attempt: number;
  /** How many earlier attempts ended in failure. */
  readonly failures: number;
  /** True when a usable checkpoint exists, i.e. `checkpoint.load()` returns state. */
  readonly resumed: boolean;
  /** The run's name from the job spec. */
  readonly run: string;
  /** Set for child tasks started with {@link TaskContext.runChild}. */
  readonly parent?: string;
}

export interface CheckpointSaveOptions {
  /** Where the work stands, e.g. the epoch or the trial number. */
  step: number;
  total?: number;
  /** @default 'periodic' */
  type?: CheckpointType;
  /** Small numbers shown by `runner checkpoints show`, e.g. `{ val_loss: 0.31 }`. */
  metrics?: Record<string, number>;
}

export interface CheckpointInfo {
  seq: number;
  type: CheckpointType;
  step: number;
  total?: number;
  /** Epoch milliseconds. */
  time: number;
  /** Payload size in bytes. */
  size: number;
  /** sha256 of the payload, hex. */
  checksum: string;
  metrics?: Record<string, number>;
}

export interface LoadedCheckpoint<S> extends CheckpointInfo {
  state: S;
}

export interface CheckpointApi {
  /**
   * The newest usable checkpoint of this task, or undefined. A checkpoint whose checksum does not
   * match, whose payload file is missing, or that was saved under other options or another plugin
   * major version is skipped with a warning, and the previous one is tried.
   */
  load<S = unknown>(): Promise<LoadedCheckpoint<S> | undefined>;
  /**
   * Saves `state` (anything msgpack can encode: objects, typed arrays, Buffers, Maps) and resolves
   * once the checkpoint is committed to the store. Large payloads go to a file written
   * tmp + fsync + rename; the store keeps its checksum. Older checkpoints are pruned by the run's
   * retention rules.
   */
  save<S = unknown>(state: S, options: CheckpointSaveOptions): Promise<CheckpointInfo>;
}

export interface ProgressUpdate {
  step?: number;
  total?: number;
  message?: string;
  /** Latest metrics, e.g. `{ loss: 0.12, val_loss: 0.15 }`. */
  metrics?: Record<string, number>;
}

export interface Logger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

/** A completed upstream task, as seen by a task that `needs` its stage. */
export interface UpstreamTask<R = unknown> {
  id: string;
  stage: string;
  cell: Cell;
  result: R;
  /** The upstream task's artifact directory. */
  artifactDir: string;
}

/** A file written atomically under the task's artifact directory, with its checksum. */
export interface ArtifactRef {
  /** Path relative to the run directory. */
  path: string;
  size: number;
  sha256: string;
}

export interface ChildTaskSpec {
  /**
   * Unique within the parent, e.g. `trial=17`. The child's id is `<parent id>/<key>`. Starting a
   * child with a key that already completed returns its stored result without running it again.
   */
  key: string;
  /** Run the plugin of this stage of the job spec, with its options. */
  stage?: string;
  /** Or run this plugin by name. */
  plugin?: string;
  /** Merged over the stage's options (deeply), then validated against the plugin's schema. */
  options?: Record<string, unknown>;
  /**
   * Parameters applied to the options after merging (see {@link applyParams}): each
   * `${params.NAME}` placeholder in the stage's options is replaced by the value, and a name that
   * no placeholder uses is read as a dotted option path, e.g. `optimizer.adam.lr`.
   */
  params?: Record<string, unknown>;
}

export interface ChildRunOptions {
  /** The child's progress updates (throttled). */
  onProgress?(update: ProgressUpdate): void;
  /** Every event the child emits with `ctx.emit` (not throttled), e.g. per-epoch metrics. */
  onEvent?(name: string, data: unknown): void;
  /** Aborting it cancels the child cooperatively (it saves a cancellation checkpoint). */
  signal?: AbortSignal;
}

/** A key/value database inside the run's LMDB store, private to one plugin. */
export interface PluginDb {
  get<T = unknown>(key: DbKey): T | undefined;
  /** Entries whose keys start with `prefix` (an array key prefix), in key order. */
  range<T = unknown>(options?: { start?: DbKey; end?: DbKey; reverse?: boolean; limit?: number }): Iterable<{ key: DbKey; value: T }>;
  /**
   * Runs `fn` in one atomic write transaction and resolves once it is committed (visible to other
   * threads and processes, and kept if the process is killed). With `durable: true` it resolves
   * only once the commit is also flushed to disk (fsync), so it survives a power loss or an OS crash.
   */
  transaction<T>(fn: (tx: PluginDbWriter) => T, options?: { durable?: boolean }): Promise<T>;
  put(key: DbKey, value: unknown): Promise<void>;
  remove(key: DbKey): Promise<void>;
}

export interface PluginDbWriter {
  get<T = unknown>(key: DbKey): T | undefined;
  put(key: DbKey, value: unknown): void;
  remove(key: DbKey): void;
}

export type DbKey = string | number | ReadonlyArray<string | number>;

/**
 * What a plugin's `run` receives. Everything here works the same in a worker thread and in a
 * child process.
 */
export interface TaskContext<Options = Record<string, unknown>> {
  /** Validated options with schema defaults filled in, frozen. */
  readonly options: Readonly<Options>;
  readonly task: TaskInfo;
  /**
   * Fires when the task is cancelled (`runner cancel`, Ctrl+C, a timeout). Save a cancellation
   * checkpoint and throw (e.g. `ctx.signal.throwIfAborted()`); the runner aborts the thread
   * after the grace period if the plugin does not return.
   */
  readonly signal: AbortSignal;
  readonly checkpoint: CheckpointApi;
  readonly log: Logger;
  /** Reports progress; cheap, call it as often as you like. */
  progress(update: ProgressUpdate): void;
  /** Emits a custom event (`task:event`) to the runner's listeners and `events.jsonl`. */
  emit(name: string, data?: unknown): void;
  /** This task's own artifact directory under `runs/<name>/artifacts/`, created on demand. */
  readonly artifactDir: string;
  /** The run directory, `runs/<name>/`. */
  readonly runDir: string;
  /** A data directory shared across runs (downloads, caches). */
  readonly dataDir: string;
  /**
   * Completed upstream tasks by stage id: one object when the needed stage has one task for this
   * cell, an array when it fans in (the needed stage runs over more matrix keys than this one).
   */
  readonly upstream: Readonly<Record<string, UpstreamTask | UpstreamTask[]>>;
  /** Devices assigned to this task, e.g. `{ gpu: [0] }`. */
  readonly resources: Readonly<Record<string, number[]>>;
  /** Writes `data` to `<artifactDir>/<name>` atomically (tmp + fsync + rename). */
  writeArtifact(name: string, data: Uint8Array | string): Promise<ArtifactRef>;
  /** Reads an artifact and verifies its checksum. */
  readArtifact(ref: ArtifactRef): Promise<Buffer>;
  /**
   * Runs another plugin as a child task on the pool and resolves with its result. The child is
   * stored like any task, with its own checkpoints, so an interrupted child resumes too. A parent
   * waiting for children lends them its slot, so nothing deadlocks.
   */
  runChild<R = unknown>(spec: ChildTaskSpec, options?: ChildRunOptions): Promise<R>;
  /** A key/value database private to this plugin, inside the run store. */
  db(name: string): PluginDb;
}

/**
 * A CLI command a plugin adds, in yargs' CommandModule shape, e.g. `runner study <spec> <cell>`.
 * Commands of built-in and installed plugins are registered when the CLI starts.
 */
export interface PluginCommand {
  command: string | readonly string[];
  describe: string;
  builder?: (yargs: any) => any;
  handler: (args: any) => void | Promise<void>;
}

export interface PluginDefinition<Options = any, Result = unknown> {
  /** Unique plugin name, used as `plugin:` in stages. */
  name: string;
  /** Semver. Checkpoints from another major version are not loaded. */
  version: string;
  description?: string;
  /**
   * JSON schema of the options. The single source of types, defaults and descriptions: give every
   * option a `description` and a `default`. Unknown keys are rejected unless the schema sets
   * `additionalProperties`.
   */
  schema?: JSONSchema;
  /**
   * Option paths (dotted, e.g. `epochs` or `model.units`) that may change without invalidating
   * checkpoints or completed work: targets such as steps, epochs or trials. Raising one on a
   * completed task reopens it, and it resumes from its last checkpoint.
   */
  resumeSafe?: readonly string[];
  /**
   * Option paths that change how a task runs but never its result: concurrency, timeouts, retry
   * and rate-limit settings. They are left out of both the fingerprint and the targets, so
   * changing one neither reruns completed work nor discards an unfinished task's checkpoints.
   */
  operational?: readonly string[];
  /**
   * Where tasks run: worker threads (the default) or one child process per task, e.g. for native
   * libraries that cannot load twice in one process.
   */
  isolation?: 'thread' | 'process' | ((options: Options) => 'thread' | 'process');
  /**
   * Checks JSON schema cannot express (e.g. `low <= high`), run on the defaulted options when
   * the spec is loaded. Each issue's path is relative to the stage's `options`; the runner adds
   * file, line and column. Return an empty list when all is well.
   */
  validate?(options: Options): { path: (string | number)[]; message: string; hint?: string }[];
  /** Extra CLI commands (reports, exports). */
  commands?: readonly PluginCommand[];
  run(ctx: TaskContext<Options>): Promise<Result> | Result;
}

/**
 * Identity helper that gives a plugin definition its types.
 */
export function definePlugin<Options = Record<string, unknown>, Result = unknown>(
  plugin: PluginDefinition<Options, Result>,
): PluginDefinition<Options, Result> {
  return plugin;
}
