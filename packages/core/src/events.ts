/**
 * The runner's typed events. Workers post progress, logs and checkpoint notices to the main
 * thread, which emits them here; the terminal view, the plain-line printer and
 * `runs/<name>/events.jsonl` all listen.
 *
 * @example
 * ```ts
 * const runner = await createRunner({ spec: 'configs/demo.yaml' });
 * runner.events.on('task:end', (e) => console.log(e.id, e.state));
 * await runner.start();
 * ```
 */
import type { CheckpointInfo, Cell } from './plugin/types.js';
import type { SerializedError } from './errors.js';
import type { TaskState } from './store/types.js';

export interface RunStartEvent {
  name: string;
  runDir: string;
  owner: string;
  total: number;
  counts: Record<TaskState, number>;
  threads: number;
  /** Notes from planning: options changed, stale tasks reset. */
  notes: string[];
  /** Per stage, the tasks this runner may still run (pending or running, selected by `--only`, not blocked). */
  toRun?: Record<string, number>;
}

/** A task's state changed by another process (`runner cancel`/`resume`, another runner). */
export interface TaskStateEvent {
  id: string;
  stage: string;
  from: TaskState;
  to: TaskState;
}

export interface TaskStartEvent {
  id: string;
  stage: string;
  cell: Cell;
  attempt: number;
  /** The checkpoint the task resumes from, if any. */
  resumeFrom?: { seq: number; step: number; total?: number; type: string };
  parent?: string;
}

export interface TaskProgressEvent {
  id: string;
  step?: number;
  total?: number;
  unit?: string;
  inner?: { step: number; total: number; unit: string };
  message?: string;
  metrics?: Record<string, number>;
}

export interface TaskCheckpointEvent extends CheckpointInfo {
  id: string;
}

export interface TaskLogEvent {
  id: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  data?: unknown;
}

export interface TaskCustomEvent {
  id: string;
  name: string;
  data?: unknown;
}

export interface TaskEndEvent {
  id: string;
  stage: string;
  /** `pending` means it will run again: a retry after backoff, or an interrupt. */
  state: TaskState;
  durationMs: number;
  result?: unknown;
  error?: SerializedError;
  /** Why the task ended this way, e.g. "retrying in 2s (failure 1 of 3)". */
  note?: string;
  parent?: string;
}

export interface RunEndEvent {
  name: string;
  counts: Record<TaskState, number>;
  /** Tasks that cannot run because something they need failed or was cancelled. */
  blocked: number;
  durationMs: number;
  exitCode: number;
  interrupted: boolean;
}

export interface RunnerEvents {
  'run:start': (e: RunStartEvent) => void;
  'task:start': (e: TaskStartEvent) => void;
  'task:progress': (e: TaskProgressEvent) => void;
  'task:checkpoint': (e: TaskCheckpointEvent) => void;
  'task:log': (e: TaskLogEvent) => void;
  'task:event': (e: TaskCustomEvent) => void;
  'task:end': (e: TaskEndEvent) => void;
  'run:end': (e: RunEndEvent) => void;
  'task:state': (e: TaskStateEvent) => void;
  /** The work left changed other than by a task ending well (a failure blocks dependents, a cancel). */
  'run:remaining': (e: { toRun: Record<string, number> }) => void;
  /** The runner stops claiming work (SIGINT, SIGTERM, a store error); running tasks save checkpoints. */
  'run:stopping': (e: { reason: string }) => void;
  /** Runner-level messages: notes, warnings, waiting for other runners. */
  'run:log': (e: { level: 'info' | 'warn' | 'error'; message: string }) => void;
}

export type RunnerEventName = keyof RunnerEvents;
