/**
 * The runner's picture of the plan: one node per planned task with its state and count of unmet
 * needs, ready queues per stage, and the pending tasks waiting out a retry backoff. Pure: no
 * store, no timers; the clock is passed in.
 */
import type { TaskState, TaskStateEntry } from '../../store/types.js';
import type { PlannedTask } from '../plan.js';

export interface GraphNode {
  t: PlannedTask;
  state: TaskState;
  /** Needs not yet completed. */
  waiting: number;
  retryAt?: number;
  queued: boolean;
  /** Picked by a fill and being claimed. */
  selected: boolean;
  /** Only-filter: may this runner start it? */
  eligible: boolean;
}

export interface TaskGraphOptions {
  /** Task ids to each task that needs it. */
  dependents: ReadonlyMap<string, readonly string[]>;
  /** May this runner start the task (`--only`)? @default every task */
  eligible?: (id: string) => boolean;
  /** Called when a node starts waiting out its retry time (arm a timer for `nextDueAt()`). */
  onDelayed?: (graph: TaskGraph) => void;
  now?: () => number;
}

export class TaskGraph {
  readonly nodes = new Map<string, GraphNode>();
  /** Pending nodes whose retry time has not come. */
  readonly delayed = new Set<GraphNode>();
  private ready: GraphNode[][];
  private closed = false;
  private readonly dependents: ReadonlyMap<string, readonly string[]>;
  private readonly onDelayed: (graph: TaskGraph) => void;
  private readonly now: () => number;

  constructor(tasks: readonly PlannedTask[], options: TaskGraphOptions) {
    this.dependents = options.dependents;
    this.onDelayed = options.onDelayed ?? (() => {});
    this.now = options.now ?? Date.now;
    const eligible = options.eligible ?? (() => true);
    let maxStage = 0;
    for (const t of tasks) {
      this.nodes.set(t.id, { t, state: 'pending', waiting: 0, retryAt: undefined, queued: false, selected: false, eligible: eligible(t.id) });
      maxStage = Math.max(maxStage, t.stageDef.index);
    }
    this.ready = Array.from({ length: maxStage + 1 }, () => []);
  }

  /**
   * Takes the stored state of each task (entries for unknown ids are skipped), counts unmet needs
   * and queues what is ready: the ids `resumeFirst` gives once states are loaded (pending tasks with
   * a checkpoint: their work is half done) ahead of the rest of their stage.
   */
  load(states: Iterable<[string, TaskStateEntry]>, resumeFirst: () => ReadonlySet<string> = () => new Set()): void {
    for (const [id, e] of states) {
      const n = this.nodes.get(id);
      if (!n) continue;
      n.state = e[0];
      n.retryAt = e[1] || undefined;
    }
    for (const n of this.nodes.values()) {
      let waiting = 0;
      for (const id of n.t.needs) if (this.nodes.get(id)?.state !== 'completed') waiting++;
      n.waiting = waiting;
    }
    const first = resumeFirst();
    for (const n of this.nodes.values()) if (first.has(n.t.id)) this.enqueueIfReady(n);
    for (const n of this.nodes.values()) this.enqueueIfReady(n);
  }

  /** When a pending task may start: its stored retry time, but never further off than its backoff allows (a wall clock jumped back). */
  dueAt(n: GraphNode): number | undefined {
    if (n.retryAt === undefined) return undefined;
    const cap = this.now() + n.t.stageDef.retries.backoff.maxMs;
    return Math.min(n.retryAt, cap);
  }

  /** Queues a pending node whose needs are met (or parks it until its retry time). */
  enqueueIfReady(n: GraphNode): void {
    if (n.state !== 'pending' || n.waiting > 0 || n.queued || n.selected || !n.eligible || this.closed) return;
    n.retryAt = this.dueAt(n);
    if (n.retryAt !== undefined && n.retryAt > this.now()) {
      this.delayed.add(n);
      this.onDelayed(this);
      return;
    }
    n.queued = true;
    this.ready[n.t.stageDef.index]!.push(n);
  }

  /** The earliest retry time among the delayed nodes, or Infinity. */
  nextDueAt(): number {
    let next = Infinity;
    for (const n of this.delayed) next = Math.min(next, n.retryAt ?? 0);
    return next;
  }

  /** Queues the delayed nodes whose retry time has come. */
  releaseDue(): void {
    const now = this.now();
    for (const n of [...this.delayed]) {
      if ((n.retryAt ?? 0) <= now) {
        this.delayed.delete(n);
        n.retryAt = undefined;
        this.enqueueIfReady(n);
      }
    }
  }

  /**
   * Takes the next ready node: later stages first (so cells finish early), the first in its
   * stage's queue that `fits` the free resources. Nodes that stopped being runnable while queued
   * are dropped on the way.
   */
  popReady(fits: (resources: Readonly<Record<string, number>>) => boolean): GraphNode | undefined {
    for (let s = this.ready.length - 1; s >= 0; s--) {
      const bucket = this.ready[s]!;
      for (let i = 0; i < bucket.length; i++) {
        const n = bucket[i]!;
        if (!fits(n.t.stageDef.resources)) continue;
        bucket.splice(i, 1);
        n.queued = false;
        if (n.state !== 'pending' || n.waiting > 0) {
          i--;
          continue;
        }
        return n;
      }
    }
    return undefined;
  }

  /** Changes a node's state; completing (or un-completing) a task updates its dependents' counts. */
  setState(n: GraphNode, state: TaskState): void {
    const was = n.state;
    if (was === state) return;
    n.state = state;
    if (was === 'completed' || state === 'completed') {
      for (const d of this.dependents.get(n.t.id) ?? []) {
        const dn = this.nodes.get(d);
        if (!dn) continue;
        dn.waiting += state === 'completed' ? -1 : 1;
        this.enqueueIfReady(dn);
      }
    }
    this.enqueueIfReady(n);
  }

  /** Moves a queued node ahead of the others of its stage (it resumes from a checkpoint). */
  moveToFront(n: GraphNode): void {
    const bucket = this.ready[n.t.stageDef.index]!;
    const i = bucket.indexOf(n);
    if (i > 0) {
      bucket.splice(i, 1);
      bucket.unshift(n);
    }
  }

  /** Stops queueing: the ready queues are emptied (and the delayed set, when asked). */
  close(dropDelayed = false): void {
    this.closed = true;
    for (const b of this.ready) b.length = 0;
    if (dropDelayed) this.delayed.clear();
  }

  hasReady(): boolean {
    return this.ready.some((b) => b.length > 0);
  }

  /** Eligible tasks in state running (with none of this runner's own active: held by other runners). */
  runningCount(): number {
    let n = 0;
    for (const x of this.nodes.values()) if (x.state === 'running' && x.eligible) n++;
    return n;
  }
}
