/**
 * A failed task's error as users see it, the same in the terminal, in `runner tasks <pattern>`
 * and in `--json`: which plugin, its code, message and hint, and where it was thrown.
 */
import type { SerializedError } from '../errors.js';
import { formatFrame, topFrames, type StackFrame } from '../util/stack.js';
import { c } from './format.js';

export interface TaskErrorJson {
  /** The core's code, e.g. `RUNNER_PLUGIN_FAILED` or `RUNNER_TASK_TIMEOUT`. */
  code: string | null;
  message: string;
  hint: string | null;
  /** The plugin that threw, when it was the plugin. */
  plugin: string | null;
  /** The plugin's own error: its code (e.g. `DOWNLOAD_HTTP`), name and message. */
  cause: { name: string; code: string | null; message: string } | null;
  retryable: boolean | null;
  details: Record<string, unknown> | null;
  /** Top frames of the plugin's stack, mapped to its source files. */
  frames: StackFrame[];
}

/** The error the plugin threw: the cause of `RUNNER_PLUGIN_FAILED`, or the error itself. */
function origin(e: SerializedError): SerializedError {
  return e.code === 'RUNNER_PLUGIN_FAILED' && e.cause ? e.cause : e;
}

export function taskErrorJson(e: SerializedError): TaskErrorJson {
  const o = origin(e);
  return {
    code: e.code ?? null,
    message: e.message,
    hint: e.hint ?? o.hint ?? null,
    plugin: e.plugin ?? null,
    cause: o === e ? null : { name: o.name, code: o.code ?? null, message: o.message },
    retryable: e.retryable ?? null,
    details: o.details ?? e.details ?? null,
    frames: topFrames(o.stack),
  };
}

/**
 * Lines for a terminal: `[plugin] CODE message`, the hint, then `at` lines. The first line is the
 * headline a one-line view shows; `stream` decides whether colours are used.
 */
export function taskErrorLines(e: SerializedError, stream: NodeJS.WriteStream = process.stdout): string[] {
  const j = taskErrorJson(e);
  const code = j.cause?.code ?? j.code;
  // A plain TypeError or RangeError says what kind of mistake it was; a coded error says more.
  const kind = j.cause && !j.cause.code && j.cause.name !== 'Error' ? `${j.cause.name}: ` : '';
  const text = j.cause ? kind + j.cause.message : j.message;
  const lines = [`${j.plugin ? `[${j.plugin}] ` : ''}${code ? `${c.dim(code, stream)} ` : ''}${text}`];
  // Some plugins end the message with the hint already (the download plugin does); once is enough.
  if (j.hint && !text.includes(j.hint)) lines.push(`${c.bold('hint', stream)}: ${j.hint}`);
  for (const f of j.frames) lines.push(c.dim(`at ${formatFrame(f)}`, stream));
  return lines;
}
