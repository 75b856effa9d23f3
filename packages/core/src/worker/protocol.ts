/**
 * Messages between the runner (main thread) and a task executing in a worker thread or a child
 * process. Everything here is plain data: errors travel as {@link SerializedError}.
 */
import type { SerializedError } from '../errors.js';
import type { LoadedPlugin } from '../plugin/load.js';
import type { CheckpointInfo, ChildTaskSpec, ProgressUpdate, TaskInfo, UpstreamTask } from '../plugin/types.js';

/** Marks a worker thread's messages to the runner (they share the worker's parentPort). */
export const ENVELOPE = '__runnerTask';

export interface TaskPayload {
  info: TaskInfo;
  pluginEntry: string;
  pluginSource: LoadedPlugin['source'];
  options: Record<string, unknown>;
  runDir: string;
  dataDir: string;
  artifactDir: string;
  upstream: Record<string, UpstreamTask | UpstreamTask[]>;
  resources: Record<string, number[]>;
  checkpoint: {
    fingerprint: string;
    pluginVersion: string;
    keep: number;
    inlineMaxBytes: number;
    /** The last sequence number handed out; saves continue from here. */
    lastSeq: number;
    ownerId: string;
  };
  /** Minimum interval between progress messages. */
  progressIntervalMs: number;
}

export type WorkerMessage =
  /** Sent once a task has run for a moment (short tasks never send it). */
  | { type: 'started' }
  /** The last message of a task, carrying its outcome (after everything it posted). */
  | { type: 'result'; outcome: ExecOutcome }
  | { type: 'progress'; update: ProgressUpdate }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string; data?: unknown }
  | { type: 'event'; name: string; data?: unknown }
  | { type: 'checkpoint'; info: CheckpointInfo }
  | { type: 'child'; req: number; spec: ChildTaskSpec }
  | { type: 'child-cancel'; req: number; reason: string };

export type MainMessage =
  | { type: 'cancel'; reason: string }
  | { type: 'child-progress'; req: number; update: ProgressUpdate }
  | { type: 'child-event'; req: number; name: string; data?: unknown }
  | { type: 'child-result'; req: number; ok: true; result: unknown }
  | { type: 'child-result'; req: number; ok: false; error: SerializedError };

export type ExecOutcome = ({ ok: true; result: unknown } | { ok: false; error: SerializedError; aborted: boolean; exited?: string }) & {
  /** Progress reported since the last progress message (sent with the outcome, not on its own). */
  progress?: ProgressUpdate;
  /** Time the plugin ran, measured in the worker. */
  execMs?: number;
};

/** The two directions of a task's message channel, whatever carries it. */
export interface TaskChannel {
  post(msg: WorkerMessage): void;
  onMessage(handler: (msg: MainMessage) => void): void;
  close(): void;
}
