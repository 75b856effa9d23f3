/**
 * How a finished attempt is recorded. Pure: the runner gathers the facts, this decides.
 *
 * - completed: the plugin returned.
 * - environment fault (disk full, store unwritable…): not the task's fault; it stays pending and
 *   the run stops (`stopRun` is set).
 * - interrupted (SIGINT/SIGTERM, a store error): pending, resumes from its last checkpoint.
 * - cancelled (`runner cancel`, a parent's child-cancel): cancelled.
 * - otherwise a failure — a timeout, a crash of a quarantined task's process (a crash suspect),
 *   or the plugin's error — retried with backoff or failed (see retry.ts).
 */
import type { ResolvedRetries } from '../../config/types.js';
import { pluginFailed, serializeError, taskCrashed, taskTimeout, type SerializedError } from '../../errors.js';
import type { TaskOutcome } from '../../store/lmdb-store.js';
import type { ExecOutcome } from '../../worker/protocol.js';
import { failureOutcome, NO_RETRIES } from './retry.js';

export type CancelKind = 'cancel' | 'interrupt' | 'timeout';

export interface AttemptFacts {
  taskId: string;
  /** The task's stage id (a child running a plugin directly: the stored stage name). */
  stage: string;
  plugin: string;
  outcome: ExecOutcome;
  runMs: number;
  /** Why the runner asked the task to stop, if it did. */
  cancelKind?: CancelKind;
  cancelReason?: string;
  /** The environment fault code found in the error (`environmentFault`), if any. */
  environmentFault?: string;
  /** The task ran in quarantine (its own process) after earlier runner deaths. */
  quarantine?: boolean;
  /** Runner deaths it was running at, for the crash message. */
  suspectDeaths?: number;
  timeoutMs?: number;
  retries?: ResolvedRetries;
  retriesUsed: number;
  stopping: boolean;
  now: number;
}

export interface Classified {
  outcome: TaskOutcome;
  /** The run must stop because of this error (an environment fault), with this code. */
  stopRun?: { code: string; error: SerializedError };
}

export function classifyAttempt(f: AttemptFacts): Classified {
  const { outcome, runMs } = f;
  if (outcome.ok) return { outcome: { state: 'completed', result: outcome.result, runMs } };
  if (f.environmentFault) {
    return {
      outcome: { state: 'pending', runMs, note: `stopped: ${outcome.error.message}; resumes from its last checkpoint` },
      stopRun: { code: f.environmentFault, error: outcome.error },
    };
  }
  if (f.cancelKind === 'interrupt') return { outcome: { state: 'pending', runMs, note: `${f.cancelReason}; resumes from its last checkpoint` } };
  if (f.cancelKind === 'cancel') return { outcome: { state: 'cancelled', runMs, note: f.cancelReason ?? 'cancelled' } };
  const error =
    f.cancelKind === 'timeout'
      ? serializeError(taskTimeout(f.taskId, f.timeoutMs ?? 0))
      : f.quarantine && outcome.exited
        ? serializeError(taskCrashed(f.taskId, f.stage, outcome.exited, f.suspectDeaths ?? 0, wrapCause(outcome.error)))
        : serializeError(pluginFailed(f.plugin, f.taskId, wrapCause(outcome.error), outcome.error.retryable !== false));
  return { outcome: failureOutcome({ error, runMs, retries: f.retries ?? NO_RETRIES, retriesUsed: f.retriesUsed, stopping: f.stopping, now: f.now }) };
}

/** A serialized error as an Error again, fields kept, to be wrapped as a cause. */
export function wrapCause(e: SerializedError): Error {
  const err = new Error(e.message);
  Object.assign(err, e);
  return err;
}
