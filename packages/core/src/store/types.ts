/**
 * Records kept in the run store. One LMDB environment per run holds them in named databases:
 * `tasks` (id → {@link TaskRecord}), `checkpoints` ([id, seq] → {@link CheckpointRecord}),
 * `events` (seq → {@link StoredEvent}, also the change feed other runners tail), `owners`
 * (runner id → {@link OwnerRecord}) and `meta`.
 */
import type { SerializedError } from '../errors.js';
import type { Cell, CheckpointType } from '../plugin/types.js';
import type { Suspicion } from '../run/crash-rule.js';

export const TASK_STATES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface OwnerRef {
  /** `<host>:<pid>:<random>` */
  id: string;
  pid: number;
  host: string;
}

export interface TaskProgress {
  step?: number;
  total?: number;
  unit?: string;
  inner?: { step: number; total: number; unit: string };
  message?: string;
  metrics?: Record<string, number>;
  updatedAt: number;
}

export interface TaskRecord {
  id: string;
  stage: string;
  plugin: string;
  cell: Cell;
  cycle: number;
  /** Ids of the tasks this one needs. */
  needs: string[];
  /** Set on child tasks. */
  parent?: string;
  state: TaskState;
  /** Starts, including restarts after a crash. */
  attempts: number;
  /** Attempts that ended in failure, ever. */
  failures: number;
  /** Failures counted against the stage's retry budget; `runner resume` starts a new budget. */
  retriesUsed?: number;
  owner?: OwnerRef;
  /** Earliest time a pending task may start again (retry backoff). */
  retryAt?: number;
  /** Set by `runner cancel` on a running task; its owner cancels it cooperatively. */
  cancelRequested?: boolean;
  /** Runner deaths in a row at which it ran without progress (see run/crash-rule.ts). */
  suspect?: Suspicion;
  /** Runs in its own process until it ends, because it may be what brings the runner down. */
  quarantine?: boolean;
  /** The progress step when the current attempt started: a step beyond it is progress made (crash rule). */
  attemptStep?: number;
  progress?: TaskProgress;
  result?: unknown;
  error?: SerializedError;
  /** Why the task is in its state, newest last, at most 10. */
  notes: string[];
  /** Hash of the resolved options that matter for the result. */
  fingerprint: string;
  /** Hash of the resume-safe options (targets such as steps or epochs). */
  targets: string;
  pluginVersion: string;
  /** The last checkpoint sequence number handed out. */
  checkpointSeq: number;
  lastCheckpoint?: { seq: number; type: CheckpointType; step: number; total?: number; time: number };
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  updatedAt: number;
  /** Wall time spent running, summed over attempts. */
  runMs: number;
}

/** The state index entry of a task: [state, retryAt (0 = none), owner id ('' = none)]. */
export type TaskStateEntry = [TaskState, number, string];

export interface CheckpointRecord {
  taskId: string;
  seq: number;
  type: CheckpointType;
  step: number;
  total?: number;
  time: number;
  size: number;
  checksum: string;
  fingerprint: string;
  pluginVersion: string;
  metrics?: Record<string, number>;
  /** The payload, when small enough to live in the store. */
  payload?: Uint8Array;
  /** Otherwise the payload file, relative to the run directory. */
  file?: string;
}

export interface OwnerRecord extends OwnerRef {
  /** Process start time from /proc, so that a reused pid is not mistaken for a live runner. */
  procStart?: string;
  startedAt: number;
  heartbeatAt: number;
  leaseMs: number;
  /** Pool threads of that runner. */
  threads?: number;
  /** Set when the runner exits on purpose with tasks still running (a second Ctrl+C). */
  exit?: 'signal';
  argv: string[];
}

export interface StoredEvent {
  seq: number;
  time: number;
  type: string;
  task?: string;
  state?: TaskState;
  owner?: string;
  data?: unknown;
}

export interface RunMeta {
  name: string;
  createdAt: number;
  specPath: string;
  formatVersion: number;
  planDigest?: string;
}

export type StateCounts = Record<TaskState, number>;

/** A planned task as the store inserts it (see `run/plan.ts`). */
export interface PlannedTaskInput {
  id: string;
  stage: string;
  plugin: string;
  cell: TaskRecord['cell'];
  cycle: number;
  needs: string[];
  fingerprint: string;
  targets: string;
  pluginVersion: string;
  parent?: string;
}

/** What reconciling the plan with the store changed. */
export interface PlanSync {
  inserted: number;
  /** Completed tasks reopened, with the reason. */
  rerun: { id: string; reason: string }[];
  /** Unfinished tasks whose options changed; their old checkpoints will not load. */
  invalidated: string[];
}

/** How an attempt ended, as its owner commits it (`RunStore.finish`). */
export type TaskOutcome =
  | { state: 'completed'; result: unknown; runMs: number }
  | { state: 'failed'; error: SerializedError; runMs: number; note?: string }
  | { state: 'pending'; runMs: number; note: string; retryAt?: number; error?: SerializedError; countFailure?: boolean }
  | { state: 'cancelled'; runMs: number; note: string };

export interface Retention {
  /** Checkpoints kept per unfinished task. */
  keep: number;
  /** Checkpoints kept once a task completes (0 removes them all). */
  keepOnComplete: number;
}

/** Per stage: plugin, its resolved options and the fingerprints they gave. */
export type StageSnapshot = Record<string, { plugin: string; options: unknown; fingerprint: string; targets: string }>;

export function emptyCounts(): StateCounts {
  return { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
}
