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

export interface CheckpointApi<State = unknown> {
  /**
   * The newest usable checkpoint of this task, or undefined. A checkpoint whose checksum does not
   * match, whose payload file is missing, or that was saved under other options or another plugin
   * major version is skipped with a warning, and the previous one is tried. Its `state` has the
   * plugin's `State` type (the third type argument of {@link definePlugin}).
   */
  load<S = State>(): Promise<LoadedCheckpoint<S> | undefined>;
  /**
   * Saves `state` (anything msgpack can encode: objects, typed arrays, Buffers, Maps) and resolves
   * once the checkpoint is committed to the store. Large payloads go to a file written
   * tmp + fsync + rename; the store keeps its checksum. Older checkpoints are pruned by the run's
   * retention rules.
   */
  save<S extends State = State>(state: S, options: CheckpointSaveOptions): Promise<CheckpointInfo>;
}

export interface ProgressUpdate {
  /** Units done; may be fractional (e.g. 20.3 epochs). */
  step?: number;
  total?: number;
  /** What a step counts, e.g. `epoch` or `trial`; shown as `epoch 21/40`. */
  unit?: string;
  /** Progress inside the current step, e.g. `{ step: 12, total: 38, unit: 'batch' }`: shown as `epoch 21/40, batch 12/38`. */
  inner?: { step: number; total: number; unit: string };
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
export interface TaskContext<Options = Record<string, unknown>, State = unknown> {
  /** Validated options with schema defaults filled in, frozen. */
  readonly options: Readonly<Options>;
  readonly task: TaskInfo;
  /**
   * Fires when the task is cancelled (`runner cancel`, Ctrl+C, a timeout). Save a cancellation
   * checkpoint and throw (e.g. `ctx.signal.throwIfAborted()`); the runner aborts the thread
   * after the grace period if the plugin does not return.
   */
  readonly signal: AbortSignal;
  readonly checkpoint: CheckpointApi<State>;
  readonly log: Logger;
  /**
   * Waits `ms` milliseconds, or less when the task is cancelled: it resolves as soon as
   * {@link signal} fires, so a plugin that polls or backs off stops promptly. Check
   * `ctx.signal.aborted` (or call `ctx.signal.throwIfAborted()`) after it.
   */
  sleep(ms: number): Promise<void>;
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

/** How one positional argument or flag of a plugin command is parsed (yargs' option shape). */
export interface CommandOption {
  type?: 'string' | 'number' | 'boolean' | 'count';
  describe?: string;
  default?: unknown;
  choices?: readonly (string | number)[];
  array?: boolean;
  nargs?: number;
  demandOption?: boolean | string;
  alias?: string | readonly string[];
}

/**
 * The part of yargs' `Argv` a plugin command's `builder` gets: declare positionals, flags and
 * examples. (The CLI passes the real yargs instance; plugins need no yargs types.)
 */
export interface CommandBuilder {
  positional(name: string, option: CommandOption): CommandBuilder;
  option(name: string, option: CommandOption): CommandBuilder;
  example(command: string, description: string): CommandBuilder;
}

/**
 * A CLI command a plugin adds, in yargs' CommandModule shape, e.g. `runner study <spec> <cell>`.
 * Commands of built-in and installed plugins are registered when the CLI starts. `Args` is what
 * the handler receives: the positionals and flags the builder declares.
 *
 * @example
 * ```ts
 * const report: PluginCommand<{ spec: string; json?: boolean }> = {
 *   command: 'report <spec>',
 *   describe: 'Summarise the backtests of a run',
 *   builder: (y) => y.positional('spec', { type: 'string', demandOption: true }).option('json', { type: 'boolean' }),
 *   async handler(args) { console.log(args.spec); },
 * };
 * ```
 */
export interface PluginCommand<Args extends object = object> {
  command: string | readonly string[];
  describe: string;
  builder?: (yargs: CommandBuilder) => CommandBuilder;
  // A method, so that a command typed with its own Args fits the definition's list.
  handler(args: Args): void | Promise<void>;
}

/** Dotted paths into an options type, e.g. `'epochs' | 'model' | 'model.units'` (four levels deep). */
export type OptionPath<T, Depth extends unknown[] = []> = [T] extends [never]
  ? never
  : Depth['length'] extends 4
  ? never
  : // Distributes over unions, so every variant's keys count (e.g. a feed that is replay | poll).
    T extends unknown
    ? [keyof T] extends [never]
      ? string
      : string extends keyof T
        ? string
        : {
            [K in keyof T & string]: K | (NonNullable<T[K]> extends readonly unknown[] ? never : NonNullable<T[K]> extends Record<string, unknown> | object ? `${K}.${OptionPath<NonNullable<T[K]>, [...Depth, 1]>}` : never);
          }[keyof T & string]
    : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The TypeScript type of the values one JSON schema accepts (the subset plugin schemas use). */
export type FromSchema<S> = S extends { const: infer C }
  ? C
  : S extends { enum: readonly (infer E)[] }
    ? E
    : S extends { oneOf: readonly (infer U)[] }
      ? FromSchema<U>
      : S extends { anyOf: readonly (infer U)[] }
        ? FromSchema<U>
        : S extends { type: readonly (infer T)[] }
          ? FromSchema<Omit<S, 'type'> & { type: T }>
          : S extends { type: 'integer' | 'number' }
            ? number
            : S extends { type: 'string' }
              ? string
              : S extends { type: 'boolean' }
                ? boolean
                : S extends { type: 'null' }
                  ? null
                  : S extends { type: 'array' }
                    ? S extends { items: infer I }
                      ? FromSchema<I>[]
                      : unknown[]
                    : S extends { properties: infer P } | { type: 'object' }
                      ? ObjectFromSchema<S>
                      : unknown;

type RequiredNames<S> = S extends { required: readonly (infer R)[] } ? R : never;

/**
 * Options as `run(ctx)` sees them: a property is present when the schema gives it a `default` or
 * lists it under `required`, and optional otherwise.
 */
type ObjectFromSchema<S> = S extends { properties: infer P }
  ? Simplify<
      {
        -readonly [K in keyof P as P[K] extends { default: unknown } ? K : K extends RequiredNames<S> ? K : never]: FromSchema<P[K]>;
      } & {
        -readonly [K in keyof P as P[K] extends { default: unknown } ? never : K extends RequiredNames<S> ? never : K]?: FromSchema<P[K]>;
      } & (S extends { additionalProperties: false } ? unknown : S extends { additionalProperties: infer A extends object } ? Record<string, FromSchema<A>> : unknown)
    >
  : Record<string, unknown>;

/** The options type a plugin's schema describes; see {@link definePlugin}. */
export type OptionsOf<S> = JSONSchema extends S ? Record<string, unknown> : ObjectFromSchema<S>;

/** Stands for options nobody named: `definePlugin<Options, Result, State>` names them. */
export interface OptionsNotNamed {
  'name the options type: definePlugin<Options, Result, State>({...}), or write the schema inline': never;
}

/**
 * `isolation` as a function of the options. Written as a method type so that a plugin typed with
 * its own options still fits `PluginDefinition` (any plugin), as `run` and `validate` do.
 */
export type IsolationOf<Options> = { choose(options: Options): 'thread' | 'process' }['choose'];

/** What `validate` returns: problems at option paths, relative to the stage's `options`. */
export interface OptionsIssue {
  path: (string | number)[];
  message: string;
  hint?: string;
}

/** A task as a report sees it: its stored record (state, progress, result, timings). */
export type ReportTask = import('../store/types.js').TaskRecord;

/** A chart of a report section: x values first, then one array per series (see `@runner/core/html`). */
export type ReportChart = import('../html/page.js').ChartSpec;

/** A table of a report section. Cells are plain values; the report escapes them. */
export interface ReportTable {
  title?: string;
  columns: string[];
  rows: Array<Array<string | number | null>>;
  /** Columns (by index) that hold numbers, aligned right. */
  numeric?: number[];
}

/**
 * What a plugin's {@link PluginDefinition.report} hook reads: its stage, its tasks and its
 * private databases, all read-only (the report may run while a runner writes).
 */
export interface ReportInput<Options = Record<string, unknown>> {
  run: { name: string; runDir: string };
  stage: { id: string; options: Readonly<Options> };
  /** The stage's planned tasks in plan order, with state, progress and result. */
  tasks: readonly ReportTask[];
  /** Child tasks of those tasks (e.g. HPO trials). */
  children: readonly ReportTask[];
  /** The plugin's private database `name`, as `ctx.db(name)` gives it in a task; read-only. */
  db(name: string): Pick<PluginDb, 'get' | 'range'>;
}

/**
 * One section of `runner report` and of the dashboard, e.g. a study's optimisation history or a
 * backtest's equity and drawdown. Sections appear under their stage, in the order returned.
 *
 * @example
 * ```ts
 * report: ({ tasks }) => tasks.filter((t) => t.result).map((t) => ({
 *   title: `equity ${t.id}`,
 *   charts: [{ title: 'Equity', xTime: true, series: [{ label: 'strategy' }], data: [xs, ys] }],
 * })),
 * ```
 */
export interface ReportSection {
  title: string;
  /** The task it belongs to, if one. */
  taskId?: string;
  /** A line of text under the title. */
  note?: string;
  charts?: ReportChart[];
  tables?: ReportTable[];
  /** Trusted HTML added after charts and tables: escape every value (`escapeHtml` from `@runner/core/html`). */
  html?: string;
}

/**
 * A plugin. `Options` is the type of the validated, defaulted options; `Result` what `run`
 * returns (plain data, stored and handed to downstream tasks); `State` what its checkpoints hold.
 */
// The default, `object`, is "any plugin": every plugin, whatever its own options type, fits it.
export interface PluginDefinition<Options = object, Result = unknown, State = unknown> {
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
  resumeSafe?: readonly OptionPath<Options>[];
  /**
   * Option paths that change how a task runs but never its result: concurrency, timeouts, retry
   * and rate-limit settings. They are left out of both the fingerprint and the targets, so
   * changing one neither reruns completed work nor discards an unfinished task's checkpoints.
   */
  operational?: readonly OptionPath<Options>[];
  /**
   * Where tasks run: worker threads (the default) or one child process per task, e.g. for native
   * libraries that cannot load twice in one process.
   */
  isolation?: 'thread' | 'process' | IsolationOf<Options>;
  /**
   * Checks JSON schema cannot express (e.g. `low <= high`), run on the defaulted options when
   * the spec is loaded. Each issue's path is relative to the stage's `options`; the runner adds
   * file, line and column. Return an empty list when all is well.
   */
  validate?(options: Options): OptionsIssue[];
  /** Extra CLI commands (reports, exports). */
  commands?: readonly PluginCommand[];
  /**
   * Sections this stage adds to `runner report` and the dashboard (charts, tables), built from
   * its tasks and private databases. Runs on the main thread, never in a worker: import heavy
   * modules inside. Without it the report still shows the stage's summary, its headline metric
   * and the curves of `result.history` (see docs/report.md).
   */
  report?(input: ReportInput<Options>): ReportSection[] | Promise<ReportSection[]>;
  run(ctx: TaskContext<Options, State>): Promise<Result> | Result;
}

/**
 * Identity helper that gives a plugin definition its types. Two ways to use it:
 *
 * - Let the schema type the options: write the schema inline and leave out the type arguments;
 *   `ctx.options` then has one property per schema property (present when it has a `default` or
 *   is `required`), typed from its `type`, `enum` or `const`.
 * - Or name the types: `definePlugin<Options, Result, State>({...})`, which also types
 *   `ctx.checkpoint.load()` and `save()` by `State`.
 *
 * Either way `resumeSafe` and `operational` accept only option paths of the options type.
 * (The types need TypeScript 5.4 or later.)
 */
export function definePlugin<const S extends JSONSchema, Result = unknown, State = unknown>(
  // Only `schema` decides S: a misspelt `resumeSafe` path must be reported there, not inferred from.
  plugin: PluginDefinition<OptionsOf<NoInfer<S>>, Result, State> & { schema?: S },
): PluginDefinition<OptionsOf<S>, Result, State>;
// Options are named, never inferred: a definition the first form rejects is not retyped here.
export function definePlugin<Options = OptionsNotNamed, Result = unknown, State = unknown>(
  plugin: PluginDefinition<NoInfer<Options>, Result, State>,
): PluginDefinition<Options, Result, State>;
export function definePlugin<Options, Result, State>(plugin: PluginDefinition<Options, Result, State>): PluginDefinition<Options, Result, State> {
  return plugin;
}
