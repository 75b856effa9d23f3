import type { EventEmitter } from 'eventemitter3';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedJobSpec } from '../config/types.js';
import { childTaskInvalid, isRunnerError, quietCommitError, RunnerError, serializeError, storeUnwritable, taskAborted, type ErrorCode, type SerializedError } from '../errors.js';
import type { RunnerEvents } from '../events.js';
import type { RunStore, Retention, TaskOutcome } from '../store/lmdb-store.js';
import type { OwnerRef, TaskRecord, TaskState } from '../store/types.js';
import { HOST } from '../util/proc.js';
import type { ExecOutcome } from '../worker/protocol.js';
import type { Active, ChildRequest } from './active.js';
import { ChildTasks } from './children/child-tasks.js';
import { Dispatcher } from './dispatch.js';
import { countStates, toRunByStage } from './graph/blocked.js';
import { RetryTimer } from './graph/retry-timer.js';
import type { GraphNode, TaskGraph } from './graph/task-graph.js';
import { Housekeeping } from './lease/housekeeping.js';
import { classifyAttempt, wrapCause } from './outcome/classify.js';
import { attemptFacts } from './outcome/facts.js';
import type { Plan } from './plan.js';
import { SafeEmitter } from './safe-emitter.js';
import { SlotLedger, type SlotGrant } from './slots/slot-ledger.js';
import { nextAverage, windowFor } from './slots/window.js';
import { openRun } from './startup.js';
import { summarizeRun, type RunSummary } from './summary.js';

export type { RunSummary } from './summary.js';
export { formatMs } from './outcome/retry.js';
export { summariseIds } from './startup.js';

export interface RunnerOptions {
  /** Run only tasks whose id matches one of these patterns (`*` wildcards). */
  only?: string[];
  /** Interval for persisting progress to the store. @default 1000 */
  progressFlushMs?: number;
  /** Narrows the planned tasks, e.g. to one shard's (`runner start --shard`). */
  plan?: (full: Plan) => Plan;
}

/**
 * Runs a job spec to completion against its store: resets stale work, plans, claims tasks with
 * leases, runs them on the pool, and records every state change atomically. Start it again after
 * any interruption and it continues where it stopped.
 *
 * The runner wires its parts: the task graph and ready queues (`graph/`), the slot ledger
 * (`slots/`), child tasks (`children/`), the heartbeat (`lease/`), the payload builder
 * (`payload/`) and the rules that turn an attempt's end into a recorded outcome (`outcome/`).
 *
 * @example
 * ```ts
 * const spec = await loadJobSpec('configs/demo.yaml');
 * const runner = new Runner(spec);
 * runner.events.on('task:end', (e) => console.log(e.id, e.state));
 * const summary = await runner.run();
 * process.exitCode = summary.exitCode;
 * ```
 */
export class Runner {
  readonly events: EventEmitter<RunnerEvents> = new SafeEmitter<RunnerEvents>();
  readonly spec: ResolvedJobSpec;
  readonly owner: OwnerRef;
  private readonly options: RunnerOptions;
  private store!: RunStore;
  private plan!: Plan;
  private graph!: TaskGraph;
  private readonly retryTimer = new RetryTimer(() => this.kick());
  private readonly slots: SlotLedger<Active>;
  private readonly children: ChildTasks;
  private readonly housekeeping: Housekeeping;
  private readonly tasks: Dispatcher;
  private kickScheduled = false;
  private waitNoticeAt = 0;
  private claiming = 0;
  private stopping = false;
  private fatal?: SerializedError;
  private finishResolve?: () => void;
  private avgRunMs = Infinity;
  private started = 0;
  private retention: Retention;
  private settling = 0;
  /** Set once this runner may no longer write to the store (see abandon()). */
  private abandoned = false;

  private get maxBackoffMs(): number {
    return Math.max(0, ...this.spec.stages.map((s) => s.retries.backoff.maxMs));
  }

  constructor(spec: ResolvedJobSpec, options: RunnerOptions = {}) {
    this.spec = spec;
    this.options = options;
    this.owner = { id: `${HOST}:${process.pid}:${randomBytes(3).toString('hex')}`, pid: process.pid, host: HOST };
    this.retention = { keep: spec.checkpoints.keep, keepOnComplete: spec.checkpoints.keepOnComplete };
    this.slots = new SlotLedger<Active>(spec.pool.threads, spec.pool.gpus, (lent) => this.tasks.lentChanged(lent));
    this.children = new ChildTasks({
      spec,
      store: () => this.store,
      stopping: () => this.stopping,
      isActive: (id) => this.tasks.active.has(id),
      kick: () => this.kick(),
      onStoreError: (err) => this.onStoreError(err),
    });
    this.housekeeping = new Housekeeping({
      store: () => this.store,
      owner: this.owner,
      fatal: () => !!this.fatal,
      abandoned: () => this.abandoned,
      active: () => this.tasks.active.values(),
      cancel: (a, reason) => this.tasks.requestCancel(a, 'cancel', reason),
      changedElsewhere: (ids) => this.followChanges(ids),
      onStoreError: (err) => this.onStoreError(err),
      kick: () => this.kick(),
      log: (level, message) => this.log(level, message),
    });
    this.tasks = new Dispatcher({
      spec,
      owner: this.owner,
      events: this.events,
      slots: this.slots,
      children: this.children,
      progress: this.housekeeping.progress,
      store: () => this.store,
      plan: () => this.plan,
      settle: (a, outcome) => this.settle(a, outcome),
      log: (level, message) => this.log(level, message),
    });
  }

  /** Opens the store, resets stale work, plans, runs everything runnable, and closes. */
  async run(): Promise<RunSummary> {
    this.started = Date.now();
    const notes = await this.open();
    this.events.emit('run:start', {
      name: this.spec.name,
      runDir: this.spec.runDir,
      owner: this.owner.id,
      total: this.plan.tasks.length,
      counts: countStates(this.graph.nodes),
      threads: this.spec.pool.threads,
      notes,
      toRun: this.toRunByStage(),
    });
    const finished = new Promise<void>((resolve) => (this.finishResolve = resolve));
    this.housekeeping.start(this.spec.lease.heartbeatMs, this.options.progressFlushMs ?? 1000);
    this.kick();
    await finished;
    return this.close();
  }

  /**
   * A second SIGINT/SIGTERM: the process exits at once with tasks running. Recording that (one
   * synchronous write) tells the next start this death was on purpose, not a crash of a task.
   */
  markExiting(): void {
    try {
      this.store?.markExiting(this.owner.id);
    } catch {
      // Exiting anyway; at worst the next start counts this death as unexplained.
    }
  }

  /** First SIGINT/SIGTERM: stop claiming, cancel running tasks cooperatively, then finish. */
  interrupt(reason = 'SIGINT'): void {
    if (this.stopping) return;
    this.stopping = true;
    const n = this.tasks.active.size;
    this.log('warn', `${reason}: stopping; ${n} running task${n === 1 ? '' : 's'} will save a checkpoint (again to exit at once)`);
    this.events.emit('run:stopping', { reason });
    this.graph?.close();
    for (const a of this.tasks.active.values()) this.tasks.requestCancel(a, 'interrupt', `interrupted by ${reason}`);
    this.children.rejectAll((c) => serializeError(taskAborted(c.id, `interrupted by ${reason}`)));
    this.checkDone();
  }

  /** Stops the run because of an error outside any task (e.g. a process-level unhandled rejection). */
  fail(err: unknown): void {
    this.onStoreError(err);
  }

  // ------------------------------------------------------------------ startup

  private async open(): Promise<string[]> {
    const opened = await openRun(this.spec, {
      owner: this.owner,
      only: this.options.only,
      narrow: this.options.plan,
      isStale: (o, rec) => this.housekeeping.isStale(o, rec),
      onStore: (store) => (this.store = store),
      onDelayed: (graph) => this.retryTimer.arm(graph),
      stopped: () => this.stopping,
    });
    ({ store: this.store, plan: this.plan, graph: this.graph } = opened);
    this.housekeeping.lastSeq = this.store.lastEventSeq();
    this.tasks.open();
    return opened.notes;
  }

  // ------------------------------------------------------------------ scheduling

  /** Schedules a fill on the next turn, so one fill serves many completions. */
  private kick(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      void this.fill();
    });
  }

  /**
   * Picks what can start (synchronously, so concurrent fills never pick the same task), claims
   * it in one transaction, and dispatches what was claimed. Fills may overlap: short tasks need
   * several claim transactions in flight to hide the commit latency.
   */
  private async fill(): Promise<void> {
    if (this.stopping) return this.checkDone();
    const picks: { node?: GraphNode; child?: ChildRequest; grant: SlotGrant<Active> }[] = this.children.takeRunnable(this.slots);
    const win = windowFor(this.spec.pool.threads, this.avgRunMs);
    while (this.slots.hasRoom(win)) {
      const n = this.graph.popReady((r) => this.slots.fits(r));
      if (!n) break;
      n.selected = true;
      picks.push({ node: n, grant: this.slots.take(n.t.stageDef.resources) });
    }
    if (picks.length === 0) return this.checkDone();
    this.claiming++;
    try {
      const claimed = await this.store.claim(
        picks.map((p) => p.node?.t.id ?? p.child!.id),
        this.owner,
        Date.now(),
        this.maxBackoffMs,
      );
      const byId = new Map(claimed.map((r) => [r.id, r]));
      for (const p of picks) {
        const id = p.node?.t.id ?? p.child!.id;
        const rec = byId.get(id);
        if (!rec) {
          this.slots.unclaimed(p.grant);
          if (p.node) {
            p.node.selected = false;
            this.refreshNode(p.node);
          } else {
            this.children.reply(p.child!, { ok: false, error: serializeError(childTaskInvalid(p.child!.parent.id, `child ${id} could not be claimed (another runner holds it)`)) });
          }
          continue;
        }
        if (p.node) {
          p.node.selected = false;
          this.graph.setState(p.node, 'running');
        }
        this.tasks.dispatch(rec, p.node, p.child, p.grant);
      }
    } catch (err) {
      this.onStoreError(err);
    } finally {
      this.claiming--;
    }
    this.kick();
    this.checkDone();
  }

  /** Applies a task's stored state to its node (another process changed it, or a claim failed). */
  private refreshNode(n: GraphNode): void {
    const rec = this.store.getTask(n.t.id);
    if (!rec) return;
    n.retryAt = rec.retryAt;
    const was = n.state;
    this.graph.setState(n, rec.state);
    // Resumed with a checkpoint: move it ahead of fresh tasks of its stage.
    if (was !== rec.state && rec.state === 'pending' && rec.lastCheckpoint && n.queued) this.graph.moveToFront(n);
    if (was !== rec.state) {
      this.events.emit('task:state', { id: n.t.id, stage: n.t.stage, from: was, to: rec.state });
      this.events.emit('run:remaining', { toRun: this.toRunByStage() });
    }
  }

  /** Other processes changed these tasks: refresh the ones this runner is not running or claiming. */
  private followChanges(ids: readonly string[] | 'all'): void {
    for (const id of ids === 'all' ? this.graph.nodes.keys() : ids) {
      const n = this.graph.nodes.get(id);
      if (!n || this.tasks.active.has(id) || n.selected) continue;
      this.refreshNode(n);
    }
  }

  // ------------------------------------------------------------------ running a task

  private async settle(a: Active, outcome: ExecOutcome): Promise<void> {
    this.settling++;
    a.settled = true;
    for (const t of a.timers) clearTimeout(t);
    // The slot is free as soon as the work stops; committing the outcome need not hold it.
    this.slots.freeSlot(a.grant);
    const runMs = outcome.execMs ?? Date.now() - (a.execStart ?? a.startedAt);
    if (outcome.progress) {
      a.record.progress = { ...a.record.progress, ...outcome.progress, updatedAt: Date.now() };
      this.events.emit('task:progress', { id: a.id, ...outcome.progress });
    }
    const { outcome: o, stopRun } = classifyAttempt(attemptFacts(a, outcome, runMs, { runDir: this.spec.runDir, stopping: this.stopping }));
    // Not the task's fault: stop the run, keep the task pending, continue once the cause is fixed.
    if (stopRun) this.onStoreError(stopRunError(stopRun.code, stopRun.error));
    if (this.abandoned) {
      this.afterSettle(a, undefined, o, runMs);
      this.settling--;
      this.kick();
      return;
    }
    try {
      const res = await this.store.finish(a.id, this.owner.id, o, this.retention, a.record.progress);
      if (res) await Promise.all(res.removedFiles.map((f) => rm(join(this.spec.runDir, f), { force: true })));
      if (!res) this.log('warn', `${a.id}: this runner no longer owns it (reset by another runner); its outcome was discarded`);
      this.afterSettle(a, res?.record, o, runMs);
    } catch (err) {
      this.afterSettle(a, undefined, o, runMs);
      this.onStoreError(err);
    } finally {
      this.settling--;
    }
    this.kick();
  }

  private afterSettle(a: Active, rec: TaskRecord | undefined, o: TaskOutcome, runMs: number): void {
    this.tasks.active.delete(a.id);
    this.housekeeping.progress.delete(a.id);
    this.slots.release(a.grant);
    if (a.child) a.child.parent.children.delete(a);
    if (o.state === 'completed') this.avgRunMs = nextAverage(this.avgRunMs, runMs);
    const state: TaskState = rec?.state ?? o.state;
    if (a.node) {
      a.node.retryAt = rec?.retryAt;
      if (rec) this.graph.setState(a.node, state);
      else this.refreshNode(a.node);
    }
    const note = 'note' in o ? o.note : undefined;
    const error = 'error' in o ? o.error : undefined;
    this.events.emit('task:end', {
      id: a.id,
      stage: a.record.stage,
      state,
      durationMs: runMs,
      result: o.state === 'completed' ? o.result : undefined,
      error,
      note,
      parent: a.record.parent,
    });
    if (a.node && (state === 'failed' || state === 'cancelled')) this.events.emit('run:remaining', { toRun: this.toRunByStage() });
    if (a.child) this.children.ended(a.child, state, o, this.stopping);
  }

  // ------------------------------------------------------------------ stopping

  private onStoreError(err: unknown): void {
    quietCommitError(err);
    if (this.fatal) return;
    const e = isRunnerError(err) ? err : storeUnwritable(this.spec.runDir, err);
    if (e.code === 'RUNNER_LEASE_LOST' || e.code === 'RUNNER_STORE_GONE') return this.abandon(e);
    this.fatal = serializeError(e);
    this.log('error', `${this.fatal.message}. Stopping; nothing committed is lost.`);
    this.interrupt('store error');
  }

  /**
   * This runner may no longer write: another runner owns its tasks now, or the store it opened is
   * gone. Stop claiming and stop running tasks hard (a cancellation checkpoint would be refused).
   */
  private abandon(e: RunnerError): void {
    const fatal = (this.fatal = serializeError(e));
    this.abandoned = true;
    this.log('error', `${e.message}. ${e.hint ?? ''}`.trim());
    this.stopping = true;
    this.graph?.close(true);
    this.children.rejectAll(() => fatal);
    this.tasks.killAll(e.message);
    this.checkDone();
  }

  private checkDone(): void {
    if (!this.finishResolve || this.kickScheduled || this.claiming > 0 || this.settling > 0 || this.tasks.active.size > 0) return;
    if (!this.stopping) {
      if (this.children.queue.length > 0) return;
      if (this.graph.hasReady()) return;
      if (this.graph.delayed.size > 0) return;
      const elsewhere = this.graph.runningCount();
      if (elsewhere > 0) {
        // Held by another runner: wait for them (their endings arrive through the event feed).
        if (Date.now() - this.waitNoticeAt > 30_000) {
          this.waitNoticeAt = Date.now();
          this.log('info', `waiting for ${elsewhere} task${elsewhere === 1 ? '' : 's'} held by another runner`);
        }
        return;
      }
    }
    const resolve = this.finishResolve;
    this.finishResolve = undefined;
    resolve();
  }

  private async close(): Promise<RunSummary> {
    this.housekeeping.stop();
    this.retryTimer.stop();
    await this.housekeeping.flushProgress();
    await this.tasks.close();
    const summary = summarizeRun({
      name: this.spec.name,
      nodes: this.graph.nodes,
      getTask: (id) => this.store.getTask(id),
      stopping: this.stopping,
      fatal: this.fatal,
      durationMs: Date.now() - this.started,
    });
    const { counts, blocked, exitCode, interrupted } = summary;
    this.events.emit('run:end', { name: this.spec.name, counts, blocked, durationMs: summary.durationMs, exitCode, interrupted });
    if (!this.abandoned) await this.store.removeOwner(this.owner.id).catch(() => {});
    await this.store.close();
    return summary;
  }

  private toRunByStage(): Record<string, number> {
    return toRunByStage(this.graph.nodes, this.spec.stages.map((s) => s.id));
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.events.emit('run:log', { level, message });
  }
}

/**
 * The error that stops the run for a task's environment fault: the store's own error where the
 * task met one (unwritable, damaged, gone), kept as it was; otherwise the system error's code.
 */
function stopRunError(code: string, error: SerializedError): Error {
  if (code === 'RUNNER_STORE_UNWRITABLE') return wrapCause(error);
  if (code.startsWith('RUNNER_')) {
    let x: SerializedError | undefined = error;
    while (x && x.code !== code) x = x.cause;
    return new RunnerError(code as ErrorCode, (x ?? error).message, { hint: (x ?? error).hint });
  }
  return Object.assign(new Error(error.message), { code });
}
