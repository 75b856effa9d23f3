import { constants as osConstants } from 'node:os';
/**
 * Every error the runner raises has a stable `code`. Codes are listed here, sorted, with one
 * factory each; `docs/errors.md` explains each code and a test keeps the two in sync.
 *
 * Errors cross worker and process boundaries as plain data ({@link SerializedError}) and are
 * recognised by `code`, never by `instanceof`.
 */

/**
 * Every core error code with the exit code the CLI ends with when a command fails with it: 2 when
 * the input is at fault (spec, plugin module, task pattern, arguments, an unwritable store), 1
 * otherwise. Sorted; `docs/errors.md` has one section per row, checked both ways by a test.
 */
export const ERROR_TABLE = {
  RUNNER_ARTIFACT_MISSING: { exit: 1 },
  RUNNER_CHECKPOINT_CORRUPT: { exit: 1 },
  RUNNER_CHILD_TASK_INVALID: { exit: 1 },
  RUNNER_CONFIG_INVALID: { exit: 2 },
  RUNNER_CONFIG_NOT_FOUND: { exit: 2 },
  RUNNER_CONFIG_PARSE: { exit: 2 },
  RUNNER_LEASE_LOST: { exit: 1 },
  RUNNER_MODULE_INVALID: { exit: 2 },
  RUNNER_PLUGIN_FAILED: { exit: 1 },
  RUNNER_PLUGIN_INVALID: { exit: 2 },
  RUNNER_PLUGIN_NOT_FOUND: { exit: 2 },
  RUNNER_RUN_LOCKED: { exit: 2 },
  RUNNER_SHARD_LEASE: { exit: 1 },
  RUNNER_SHARDS_INCOMPLETE: { exit: 1 },
  RUNNER_SNAPSHOT_CORRUPT: { exit: 1 },
  RUNNER_STORE_CORRUPT: { exit: 1 },
  RUNNER_STORE_GONE: { exit: 1 },
  RUNNER_STORE_UNWRITABLE: { exit: 2 },
  RUNNER_TASK_ABORTED: { exit: 1 },
  RUNNER_TASK_CRASHED: { exit: 1 },
  RUNNER_TASK_NOT_FOUND: { exit: 2 },
  RUNNER_TASK_STATE: { exit: 2 },
  RUNNER_TASK_TIMEOUT: { exit: 1 },
  RUNNER_USAGE: { exit: 2 },
} as const satisfies Record<string, { exit: 1 | 2 }>;

export const ErrorCodes = Object.fromEntries(Object.keys(ERROR_TABLE).map((k) => [k, k])) as { readonly [K in keyof typeof ERROR_TABLE]: K };

export type ErrorCode = keyof typeof ERROR_TABLE;

/** The exit code for an error that ends a command: the table's for core codes, 1 for anything else. */
export function exitCodeOf(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(ERROR_TABLE, code) ? ERROR_TABLE[code as ErrorCode].exit : 1;
}

/** One located problem, e.g. a schema error at `configs/demo.yaml:7:12`. */
export interface ErrorIssue {
  /** File the problem is in, or a pseudo-source such as `--set`. */
  file?: string;
  line?: number;
  col?: number;
  /** Config path in dotted form, e.g. `stages[0].options.steps`. */
  path?: string;
  message: string;
  hint?: string;
}

export interface RunnerErrorOptions {
  hint?: string;
  cause?: unknown;
  issues?: ErrorIssue[];
  /** Whether running the task again could help. Defaults to true for plugin errors. */
  retryable?: boolean;
  plugin?: string;
  taskId?: string;
  details?: Record<string, unknown>;
}

export class RunnerError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly issues: ErrorIssue[];
  readonly retryable: boolean;
  readonly plugin: string | undefined;
  readonly taskId: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: RunnerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RunnerError';
    this.code = code;
    this.hint = options.hint;
    this.issues = options.issues ?? [];
    this.retryable = options.retryable ?? false;
    this.plugin = options.plugin;
    this.taskId = options.taskId;
    this.details = options.details;
  }
}

export interface PluginErrorOptions {
  /** What to do about it, shown under the message. */
  hint?: string;
  /**
   * Whether running the task again could help (a timeout, a 503). The runner retries a failed task
   * only while this is not false and its stage has `retries` left.
   * @default true
   */
  retryable?: boolean;
  cause?: unknown;
  /** Plain data for `runner tasks --json`, e.g. `{ url, status }`. */
  details?: Record<string, unknown>;
}

/**
 * The error a plugin throws for a failure it understands: a stable code of the plugin's own
 * (`DOWNLOAD_HTTP`, `TRAIN_LOSS_NOT_FINITE`), a message that says what happened, a hint that
 * says what to do, and whether a retry could help. The runner keeps all of it: the terminal,
 * `runner tasks <pattern>` and `--json` show the plugin, code, message, hint and where it was
 * thrown. Give each code one small factory, as the built-in plugins do.
 *
 * @example
 * ```ts
 * throw new PluginError('COUNT_TOO_FAR', `cannot count to ${to}`, { hint: 'Use to <= 1000.', retryable: false });
 * ```
 */
export class PluginError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly hint: string | undefined;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: Code, message: string, options: PluginErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PluginError';
    this.code = code;
    this.hint = options.hint;
    this.retryable = options.retryable ?? true;
    this.details = options.details;
  }
}

/** Is `err` a plugin error (a `code` that is not the core's), across thread boundaries too? */
export function isPluginError(err: unknown, code?: string): err is PluginError {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' && !c.startsWith('RUNNER_') && (code === undefined || c === code);
}

/** An error as plain data, safe to post between threads and processes and to store. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  hint?: string;
  stack?: string;
  retryable?: boolean;
  plugin?: string;
  taskId?: string;
  issues?: ErrorIssue[];
  /** Plain data a plugin attached, e.g. `{ url, status }`. */
  details?: Record<string, unknown>;
  /** Set by a plugin error that is the spec's or its input data's fault: a run that fails only on such errors exits 2. */
  badInput?: boolean;
  cause?: SerializedError;
  /** For system errors: the call and the file it failed on (`mkdir`, `/runs/x/artifacts`). */
  syscall?: string;
  path?: string;
}

export function isRunnerError(err: unknown, code?: ErrorCode): err is RunnerError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  if (typeof c !== 'string' || !c.startsWith('RUNNER_')) return false;
  return code === undefined || c === code;
}

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (typeof err !== 'object' || err === null) {
    return { name: 'Error', message: String(err) };
  }
  const e = err as Partial<RunnerError> & { cause?: unknown; code?: unknown };
  const out: SerializedError = {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(err),
  };
  if (typeof e.code === 'string') out.code = e.code;
  if (typeof e.hint === 'string') out.hint = e.hint;
  if (typeof e.stack === 'string') out.stack = e.stack;
  if (typeof e.retryable === 'boolean') out.retryable = e.retryable;
  if (typeof e.plugin === 'string') out.plugin = e.plugin;
  if (typeof e.taskId === 'string') out.taskId = e.taskId;
  if (Array.isArray(e.issues) && e.issues.length > 0) out.issues = e.issues;
  const sys = err as { syscall?: unknown; path?: unknown };
  if (typeof sys.syscall === 'string') out.syscall = sys.syscall;
  if (typeof sys.path === 'string') out.path = sys.path;
  if (typeof e.details === 'object' && e.details !== null && Object.keys(e.details).length > 0) out.details = plainDetails(e.details);
  if ((e as { badInput?: unknown }).badInput === true) out.badInput = true;
  if (e.cause !== undefined && depth < 4) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

function plainDetails(d: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(d)) as Record<string, unknown>;
  } catch {
    return { unserializable: true };
  }
}

/** Whether the error, or one of its causes, is marked as the spec's or the input data's fault. */
export function isBadInput(err: SerializedError | undefined): boolean {
  for (let e = err; e; e = e.cause) if (e.badInput) return true;
  return false;
}

/** Turns serialized data back into an Error so that `cause` chains print naturally. */
export function deserializeError(data: SerializedError): Error {
  const err = new Error(data.message, data.cause ? { cause: deserializeError(data.cause) } : undefined);
  err.name = data.name;
  if (data.stack) err.stack = data.stack;
  Object.assign(err, {
    code: data.code,
    hint: data.hint,
    retryable: data.retryable,
    plugin: data.plugin,
    taskId: data.taskId,
    issues: data.issues ?? [],
    details: data.details,
    ...(data.badInput ? { badInput: true } : {}),
  });
  return err;
}

// ---- factories, one per code, sorted ----

export function artifactMissing(path: string, taskId: string | undefined, hint?: string): RunnerError {
  return new RunnerError(
    ErrorCodes.RUNNER_ARTIFACT_MISSING,
    `artifact file ${path} is missing${taskId ? ` (referenced by ${taskId})` : ''}`,
    { hint: hint ?? 'It was deleted or moved. Rerun the task that produced it: `runner reset <spec> --stage <stage>`.', taskId },
  );
}

export function artifactChanged(path: string, taskId: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_ARTIFACT_MISSING, `artifact ${path} does not match its checksum`, {
    hint: 'The file was changed after it was written. Rerun the task that produced it.',
    taskId,
  });
}

export function checkpointCorrupt(taskId: string, seq: number, reason: string): RunnerError {
  return new RunnerError(
    ErrorCodes.RUNNER_CHECKPOINT_CORRUPT,
    `checkpoint #${seq} of ${taskId} is unusable: ${reason}`,
    { hint: 'The runner falls back to the previous checkpoint, or starts the task fresh.', taskId },
  );
}

export function childTaskInvalid(parentId: string, message: string, hint?: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_CHILD_TASK_INVALID, `${parentId}: ${message}`, {
    hint: hint ?? 'Check the stage or plugin named in runChild().',
    taskId: parentId,
  });
}

export function configInvalid(file: string, issues: ErrorIssue[]): RunnerError {
  const n = issues.length;
  return new RunnerError(ErrorCodes.RUNNER_CONFIG_INVALID, `${file}: ${n} problem${n === 1 ? '' : 's'} in the job spec`, {
    issues,
    hint: 'Fix each problem listed above, then run `runner validate` again.',
  });
}

export function configNotFound(file: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_CONFIG_NOT_FOUND, `job spec ${file} does not exist`, {
    hint: 'Pass the path to a YAML job spec, e.g. `runner start configs/quickstart.yaml`.',
  });
}

/** The path exists but is no readable file (a directory, no permission): there is no job spec to load. */
export function configNotAFile(file: string, why: string, hint: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_CONFIG_NOT_FOUND, `job spec ${file} ${why}`, { hint });
}

export function configParse(file: string, issues: ErrorIssue[]): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_CONFIG_PARSE, `${file}: the file is not valid YAML`, {
    issues,
    hint: 'Fix the YAML syntax at the line and column shown.',
  });
}

export function leaseLost(message: string, hint?: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_LEASE_LOST, message, {
    hint:
      hint ??
      'Another runner took this one for dead (it was paused, or its host was unreachable, for longer than lease.ttlMs) and took over its tasks. Nothing committed is lost; the other runner carries on. Raise lease.ttlMs if pauses this long are expected.',
  });
}

/** A user's module (plugin, strategy) does not parse. */
export function moduleInvalid(file: string, line: number, col: number, message: string, cause: unknown): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_MODULE_INVALID, `${file}:${line}:${col}: ${message}`, {
    cause,
    issues: [{ file, line, col, message }],
    hint: 'Fix the syntax at the line and column shown, then run the command again.',
  });
}

export function pluginFailed(plugin: string, taskId: string, cause: unknown, retryable: boolean): RunnerError {
  const msg = typeof cause === 'object' && cause !== null && 'message' in cause ? String((cause as Error).message) : String(cause);
  const own = (cause as { hint?: unknown } | null)?.hint;
  const next = retryable
    ? 'The task is retried if its stage allows retries; otherwise fix the cause and run `runner resume <spec> <task>`.'
    : 'The plugin marked this error as not retryable. Fix the cause, then run `runner resume <spec> <task>`.';
  return new RunnerError(ErrorCodes.RUNNER_PLUGIN_FAILED, `[${plugin}] ${taskId}: ${msg}`, {
    cause,
    plugin,
    taskId,
    retryable,
    // The plugin knows best what to do; the runner's advice is the fallback.
    hint: typeof own === 'string' && own ? own : next,
  });
}

/** What `run()` returned cannot be stored (a function, a class instance with a socket). */
export function pluginResultInvalid(taskId: string, cause: unknown): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_PLUGIN_FAILED, `the result of ${taskId} is not plain data: ${messageOf(cause)}`, {
    taskId,
    retryable: false,
    hint: 'Return plain data from run(): objects, arrays, numbers, strings; keep large outputs in artifacts.',
  });
}

/** What `run()` returned holds a BigInt, which the stored JSON result cannot. */
export function pluginResultBigInt(taskId: string, path: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_PLUGIN_FAILED, `the result of ${taskId} holds a BigInt at ${path}`, {
    taskId,
    retryable: false,
    hint: 'Results are stored and shown as JSON, which has no BigInt: convert it with Number() (or String() for exact large values).',
  });
}

/** `ctx.checkpoint.save(state)` got something msgpack cannot encode. */
export function checkpointUnencodable(taskId: string, cause: unknown): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_PLUGIN_FAILED, `checkpoint state of ${taskId} cannot be encoded: ${messageOf(cause)}`, {
    taskId,
    retryable: false,
    hint: 'Checkpoint state must be plain data: objects, arrays, numbers, strings, typed arrays, Buffers, Maps.',
  });
}

export function pluginInvalid(source: string, message: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_PLUGIN_INVALID, `plugin ${source}: ${message}`, {
    hint: 'A plugin module default-exports { name, version, schema, run(ctx) }; see docs/plugins.md.',
  });
}

/** Importing the plugin module did not finish (a loop or a top-level await at import time). */
export function pluginImportStuck(entry: string, why: string, limitMs: number): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_PLUGIN_INVALID, `plugin ${entry}: ${why}`, {
    hint: `Plugin modules must import quickly and without side effects; do the work inside run(). The limit is RUNNER_PLUGIN_IMPORT_TIMEOUT_MS (default ${limitMs} ms).`,
  });
}

/** The module imported but threw while it was evaluated (a missing dependency, a side effect). */
export function pluginLoadFailed(entry: string, cause: unknown): RunnerError {
  if (isRunnerError(cause, ErrorCodes.RUNNER_MODULE_INVALID)) return cause;
  return new RunnerError(ErrorCodes.RUNNER_PLUGIN_INVALID, `plugin ${entry} failed to load: ${messageOf(cause)}`, {
    cause,
    hint: 'Plugin modules must import without side effects; import heavy dependencies inside run().',
  });
}

export function pluginNotFound(name: string, known: string[], issue?: ErrorIssue): RunnerError {
  // A known name that did not resolve is a built-in whose package is not installed.
  if (known.includes(name)) {
    const pkg = `@runner/plugin-${name}`;
    return new RunnerError(ErrorCodes.RUNNER_PLUGIN_NOT_FOUND, `plugin "${name}" is built in, but its package ${pkg} is not installed`, {
      issues: issue ? [issue] : [],
      hint: `Install it next to @runner/core: \`npm i ${pkg}\` (or \`pnpm add ${pkg}\`).`,
      details: { package: pkg },
    });
  }
  const suggestion = closest(name, known);
  return new RunnerError(ErrorCodes.RUNNER_PLUGIN_NOT_FOUND, `no plugin named "${name}"`, {
    issues: issue ? [issue] : [],
    hint:
      (suggestion ? `Did you mean "${suggestion}"? ` : '') +
      `Known plugins: ${known.join(', ') || '(none)'}. ` +
      'List a package or a path to a plugin module under `plugins:` in the job spec.',
  });
}

export function runLocked(message: string, hint: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_RUN_LOCKED, message, { hint });
}

export function shardLease(message: string, hint: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_SHARD_LEASE, message, { hint });
}

export function shardsIncomplete(message: string, hint: string, details?: Record<string, unknown>): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_SHARDS_INCOMPLETE, message, { hint, details });
}

export function snapshotCorrupt(dir: string, reason: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_SNAPSHOT_CORRUPT, `no usable snapshot in ${dir}: ${reason}`, {
    hint: 'Every snapshot there failed its checksums, so none was restored. Move the directory aside to start this shard from scratch, or restore an older copy of it.',
  });
}

export function storeCorrupt(dir: string, what: string, hint?: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_STORE_CORRUPT, `the run store at ${dir} is damaged: ${what}`, {
    hint:
      hint ??
      'Restore store.mdb from a backup (runs/<name>/backups/<time>/store.mdb, made by `runner reset --backup`), or move the run directory aside and start the run again from scratch.',
  });
}

export function storeGone(dir: string, what: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_STORE_GONE, `the run store at ${dir} ${what} while this runner was using it`, {
    hint: 'Something removed or replaced the run directory. Nothing more was written; start the run again to continue from what the store at that path now holds.',
  });
}

/**
 * lmdb-js rejects every write of a failed commit with "Commit failed" and a `commitError`
 * promise that rejects too; nobody else awaits it, so it would surface as an unhandled rejection.
 */
export function quietCommitError(err: unknown): void {
  const p = (err as { commitError?: unknown } | undefined)?.commitError;
  if (p && typeof (p as Promise<unknown>).catch === 'function') (p as Promise<unknown>).catch(() => {});
}

/** The errno name of a system error; LMDB reports plain numbers (28 = ENOSPC, 5 = EIO). */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  if (typeof code === 'number') return ERRNO_NAMES.get(code);
  return undefined;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

export function storeUnwritable(dir: string, cause: unknown): RunnerError {
  quietCommitError(cause);
  const failedCommit = (cause as { commitError?: unknown } | undefined)?.commitError !== undefined || /^Commit failed/.test(String((cause as Error)?.message));
  // LMDB reports a full disk during a commit as EIO (or only as "Commit failed").
  const code = errnoCode(cause) ?? (failedCommit ? 'EIO' : undefined);
  const why =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'the disk is full'
      : code === 'EFBIG'
        ? 'a file-size limit was reached (ulimit -f)'
      : code === 'EROFS'
        ? 'the filesystem is read-only'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied (the directory is read-only for this user)'
          : code === 'EIO'
            ? 'an I/O error (the disk failed, or filled up while LMDB wrote)'
            : String((cause as Error)?.message ?? cause);
  return new RunnerError(ErrorCodes.RUNNER_STORE_UNWRITABLE, `cannot write the run store at ${dir}: ${why}`, {
    cause,
    hint:
      code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG' || code === 'EIO'
        ? 'Free disk space (`runner checkpoints <spec> prune --older-than 7d` helps; after an I/O error check the disk with `dmesg`), then start again. Nothing committed was lost.'
        : 'Make the directory writable or point runsDir elsewhere (`--set runsDir=/path`), then start again.',
  });
}

export function taskAborted(taskId: string, reason: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_TASK_ABORTED, `${taskId}: ${reason}`, { taskId, retryable: true });
}

export function taskCrashed(taskId: string, stage: string, exit: string, deaths: number, cause: unknown): RunnerError {
  return new RunnerError(
    ErrorCodes.RUNNER_TASK_CRASHED,
    `${taskId}: its process ${exit} while it ran in quarantine (in its own process, because it had been running at ${deaths} runner deaths in a row without progress): ` +
      'it most likely brings the process down itself (a crash in native code, or out of memory)',
    {
      taskId,
      cause,
      retryable: true,
      hint: `Set \`isolation: process\` on stage "${stage}" so that a crash ends only its own process, fix the plugin (or give it more memory), then run \`runner resume <spec> ${taskId}\`.`,
    },
  );
}

export function taskNotFound(pattern: string, hint?: string, what = 'task'): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_TASK_NOT_FOUND, `no ${what} matches "${pattern}"`, {
    hint: hint ?? 'List task ids with `runner tasks <spec>`; patterns use * as a wildcard, e.g. "work/*AAPL*".',
  });
}

export function taskState(message: string, hint: string, taskId?: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_TASK_STATE, message, { hint, taskId });
}

export function taskTimeout(taskId: string, ms: number): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_TASK_TIMEOUT, `${taskId}: timed out after ${ms} ms`, {
    taskId,
    retryable: true,
    hint: 'Raise the stage timeoutMs, or make the plugin faster.',
  });
}

export function usage(message: string, hint?: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_USAGE, message, { hint: hint ?? 'Run the command with --help.' });
}

function messageOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'message' in err ? String((err as Error).message) : String(err);
}

/** The closest candidate by edit distance, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
