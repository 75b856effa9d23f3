/** What the runner keeps for each task it runs, and for each child task it was asked to run. */
import type { ResolvedStage } from '../config/types.js';
import type { LoadedPlugin } from '../plugin/load.js';
import type { TaskRecord } from '../store/types.js';
import type { GraphNode } from './graph/task-graph.js';
import type { CancelKind } from './outcome/classify.js';
import type { SlotGrant } from './slots/slot-ledger.js';
import type { RunningHandle } from './executors.js';

/** A `ctx.runChild` request, from validation until its result goes back to the parent. */
export interface ChildRequest {
  id: string;
  parent: Active;
  req: number;
  plugin: LoadedPlugin;
  stage?: ResolvedStage;
  options: Record<string, unknown>;
  fingerprint: string;
  targets: string;
  resources: Record<string, number>;
}

/** A task this runner claimed and runs: a planned task (`node`) or a child (`child`). */
export interface Active {
  id: string;
  node?: GraphNode;
  child?: ChildRequest;
  plugin: LoadedPlugin;
  stage?: ResolvedStage;
  record: TaskRecord;
  handle?: RunningHandle;
  startedAt: number;
  started: boolean;
  cancelKind?: CancelKind;
  cancelReason?: string;
  killed?: boolean;
  timers: NodeJS.Timeout[];
  /** Its slot (its own, or one lent by its parent) and GPUs. */
  grant: SlotGrant<Active>;
  /** Its outcome is being recorded; no more cancels. */
  settled?: boolean;
  /** When the worker began executing (after any wait in the pool's queue). */
  execStart?: number;
  /** A cancel requested before the worker started; sent once it has. */
  pendingCancel?: string;
  children: Set<Active>;
}
