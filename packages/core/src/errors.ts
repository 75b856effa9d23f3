/**
 * Every error the runner raises has a stable `code`. Codes are listed here, sorted, with one
 * factory each; `docs/errors.md` explains each code and a test keeps the two in sync.
 *
 * Errors cross worker and process boundaries as plain data ({@link SerializedError}) and are
 * recognised by `code`, never by `instanceof`.
 */

export const ErrorCodes = {
  RUNNER_ARTIFACT_MISSING: 'RUNNER_ARTIFACT_MISSING',
  RUNNER_CHECKPOINT_CORRUPT: 'RUNNER_CHECKPOINT_CORRUPT',
  RUNNER_CHILD_TASK_INVALID: 'RUNNER_CHILD_TASK_INVALID',
  RUNNER_CONFIG_INVALID: 'RUNNER_CONFIG_INVALID',
  RUNNER_CONFIG_NOT_FOUND: 'RUNNER_CONFIG_NOT_FOUND',
  RUNNER_CONFIG_PARSE: 'RUNNER_CONFIG_PARSE',
  RUNNER_PLUGIN_FAILED: 'RUNNER_PLUGIN_FAILED',
  RUNNER_PLUGIN_INVALID: 'RUNNER_PLUGIN_INVALID',
  RUNNER_PLUGIN_NOT_FOUND: 'RUNNER_PLUGIN_NOT_FOUND',
  RUNNER_RUN_LOCKED: 'RUNNER_RUN_LOCKED',
  RUNNER_STORE_UNWRITABLE: 'RUNNER_STORE_UNWRITABLE',
  RUNNER_TASK_ABORTED: 'RUNNER_TASK_ABORTED',
  RUNNER_TASK_NOT_FOUND: 'RUNNER_TASK_NOT_FOUND',
  RUNNER_TASK_STATE: 'RUNNER_TASK_STATE',
  RUNNER_TASK_TIMEOUT: 'RUNNER_TASK_TIMEOUT',
  RUNNER_USAGE: 'RUNNER_USAGE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

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
  /** Set by a plugin error that is the spec's or its input data's fault: a run that fails only on such errors exits 2. */
  badInput?: boolean;
  cause?: SerializedError;
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
  if ((e as { badInput?: unknown }).badInput === true) out.badInput = true;
  if (e.cause !== undefined && depth < 4) out.cause = serializeError(e.cause, depth + 1);
  return out;
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

export function configParse(file: string, issues: ErrorIssue[]): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_CONFIG_PARSE, `${file}: the file is not valid YAML`, {
    issues,
    hint: 'Fix the YAML syntax at the line and column shown.',
  });
}

export function pluginFailed(plugin: string, taskId: string, cause: unknown, retryable: boolean): RunnerError {
  const msg = typeof cause === 'object' && cause !== null && 'message' in cause ? String((cause as Error).message) : String(cause);
  return new RunnerError(ErrorCodes.RUNNER_PLUGIN_FAILED, `[${plugin}] ${taskId}: ${msg}`, {
    cause,
    plugin,
    taskId,
    retryable,
    hint: retryable
      ? 'The task is retried if its stage allows retries; otherwise fix the cause and run `runner resume <spec> <task>`.'
      : 'The plugin marked this error as not retryable. Fix the cause, then run `runner resume <spec> <task>`.',
  });
}

export function pluginInvalid(source: string, message: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_PLUGIN_INVALID, `plugin ${source}: ${message}`, {
    hint: 'A plugin module default-exports { name, version, schema, run(ctx) }; see docs/plugins.md.',
  });
}

export function pluginNotFound(name: string, known: string[], issue?: ErrorIssue): RunnerError {
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

export function storeUnwritable(dir: string, cause: unknown): RunnerError {
  const code = (cause as { code?: string })?.code;
  const why =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'the disk is full'
      : code === 'EFBIG'
        ? 'a file-size limit was reached (ulimit -f)'
      : code === 'EROFS'
        ? 'the filesystem is read-only'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied (the directory is read-only for this user)'
          : String((cause as Error)?.message ?? cause);
  return new RunnerError(ErrorCodes.RUNNER_STORE_UNWRITABLE, `cannot write the run store at ${dir}: ${why}`, {
    cause,
    hint:
      code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG'
        ? 'Free disk space (`runner checkpoints <spec> prune --older-than 7d` helps), then start again. Nothing committed was lost.'
        : 'Make the directory writable or point runsDir elsewhere (`--set runsDir=/path`), then start again.',
  });
}

export function taskAborted(taskId: string, reason: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_TASK_ABORTED, `${taskId}: ${reason}`, { taskId, retryable: true });
}

export function taskNotFound(pattern: string, hint?: string): RunnerError {
  return new RunnerError(ErrorCodes.RUNNER_TASK_NOT_FOUND, `no task matches "${pattern}"`, {
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
