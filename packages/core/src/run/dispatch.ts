/**
 * Running claimed tasks: builds each payload, starts it on the thread pool or in its own process,
 * relays the worker's messages (progress, logs, checkpoints, child requests) and cancels
 * cooperatively, then hard after the grace period. The outcome goes back through `settle`.
 */
import type { EventEmitter } from 'eventemitter3';
import type { ResolvedJobSpec } from '../config/types.js';
import { serializeError, taskAborted } from '../errors.js';
import type { RunnerEvents } from '../events.js';
import type { RunStore } from '../store/lmdb-store.js';
import type { OwnerRef, TaskProgress, TaskRecord } from '../store/types.js';
import type { ExecOutcome, WorkerMessage } from '../worker/protocol.js';
import type { Active, ChildRequest } from './active.js';
import type { ChildTasks } from './children/child-tasks.js';
import { ProcessExecutor, ThreadExecutor } from './executors.js';
import type { GraphNode } from './graph/task-graph.js';
import type { CancelKind } from './outcome/classify.js';
import { buildTaskPayload } from './payload/build.js';
import { upstreamOfStage, upstreamResults } from './payload/upstream.js';
import type { Plan } from './plan.js';
import type { SlotGrant, SlotLedger } from './slots/slot-ledger.js';

export interface DispatchHost {
  readonly spec: ResolvedJobSpec;
  readonly owner: OwnerRef;
  readonly events: EventEmitter<RunnerEvents>;
  readonly slots: SlotLedger<Active>;
  readonly children: ChildTasks;
  /** Progress not yet flushed to the store, by task id. */
  readonly progress: Map<string, TaskProgress>;
  store(): RunStore;
  plan(): Plan;
  /** Records how a task ended (always called once per dispatched task). */
  settle(a: Active, outcome: ExecOutcome): Promise<void>;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export class Dispatcher {
  /** Tasks claimed by this runner and not yet settled, by id. */
  readonly active = new Map<string, Active>();
  private threads?: ThreadExecutor;
  private processes?: ProcessExecutor;

  constructor(private readonly host: DispatchHost) {}

  /** Starts the executors: a thread pool with room for children on lent slots, and forked processes. */
  open(): void {
    const pool = this.host.spec.pool;
    this.threads = new ThreadExecutor({ threads: pool.threads, maxThreads: pool.threads * 2, maxOldGenerationSizeMb: pool.maxOldGenerationSizeMb });
    this.processes = new ProcessExecutor();
  }

  /** Children running on lent slots need threads beyond the pool's slots. */
  lentChanged(lent: number): void {
    if (!this.threads) return;
    this.threads.capacity = this.host.spec.pool.threads + lent;
    this.threads.drain();
  }

  async close(): Promise<void> {
    await this.threads?.close();
    await this.processes?.close();
  }

  dispatch(rec: TaskRecord, node: GraphNode | undefined, child: ChildRequest | undefined, grant: SlotGrant<Active>): void {
    const { spec, store } = { spec: this.host.spec, store: this.host.store() };
    const plugin = node ? node.t.stageDef.plugin : child!.plugin;
    const stage = node ? node.t.stageDef : child!.stage;
    const a: Active = { id: rec.id, node, child, plugin, stage, record: rec, startedAt: Date.now(), started: false, timers: [], grant, children: new Set() };
    if (child) child.parent.children.add(a);
    this.host.slots.claimed(grant);
    this.active.set(rec.id, a);
    const plan = this.host.plan();
    const planned = node?.t ?? (child ? plan.byId.get(child.parent.id) : undefined);
    const needs = !planned ? [] : node ? planned.upstream : upstreamOfStage(plan, stage, planned);
    const { payload, resumeFrom } = buildTaskPayload({
      record: rec,
      plugin,
      options: node ? node.t.stageDef.options : child!.options,
      // A task that never saved a checkpoint has none to look up.
      lastCheckpoint: rec.checkpointSeq > 0 ? store.listCheckpoints(rec.id)[0] : undefined,
      run: { name: spec.name, runDir: spec.runDir, dataDir: spec.dataDir },
      upstream: upstreamResults(needs, (id) => store.getTask(id), spec.runDir),
      gpus: grant.gpus,
      checkpoints: spec.checkpoints,
      ownerId: this.host.owner.id,
      progressIntervalMs: 100,
    });
    this.host.events.emit('task:start', { id: rec.id, stage: rec.stage, cell: rec.cell, attempt: rec.attempts, resumeFrom, parent: rec.parent });
    const isolation = rec.quarantine ? 'process' : (stage?.isolation ?? spec.pool.isolation);
    const hooks = { onMessage: (m: WorkerMessage) => this.onWorkerMessage(a, m) };
    try {
      a.handle =
        isolation === 'process'
          ? this.processes!.start(payload, hooks, grant.gpus.length > 0 ? { CUDA_VISIBLE_DEVICES: grant.gpus.join(',') } : {})
          : this.threads!.start(payload, hooks);
    } catch (err) {
      void this.host.settle(a, { ok: false, aborted: false, error: serializeError(err) });
      return;
    }
    a.handle.done.then(
      (outcome) => this.host.settle(a, outcome),
      (err) =>
        this.host.settle(a, {
          ok: false,
          aborted: a.killed ?? false,
          error: serializeError(a.killed ? taskAborted(a.id, `did not stop within ${spec.cancel.graceMs} ms of being cancelled; its thread was terminated`) : err),
        }),
    );
  }

  private onWorkerMessage(a: Active, m: WorkerMessage): void {
    const events = this.host.events;
    switch (m.type) {
      case 'started': {
        a.started = true;
        a.execStart = Date.now();
        if (a.pendingCancel) a.handle?.send({ type: 'cancel', reason: a.pendingCancel });
        // The stage's timeout counts the task's own run, not its wait for a thread or process.
        const timeoutMs = a.stage?.timeoutMs;
        if (timeoutMs && !a.settled) a.timers.push(setTimeout(() => this.requestCancel(a, 'timeout', `timed out after ${timeoutMs} ms`), timeoutMs));
        return;
      }
      case 'result':
        return;
      case 'progress': {
        const p: TaskProgress = { ...a.record.progress, ...m.update, updatedAt: Date.now() };
        a.record.progress = p;
        this.host.progress.set(a.id, p);
        events.emit('task:progress', { id: a.id, ...m.update });
        if (a.child) a.child.parent.handle?.send({ type: 'child-progress', req: a.child.req, update: m.update });
        return;
      }
      case 'log':
        events.emit('task:log', { id: a.id, level: m.level, message: m.message, data: m.data });
        return;
      case 'event':
        events.emit('task:event', { id: a.id, name: m.name, data: m.data });
        if (a.child) a.child.parent.handle?.send({ type: 'child-event', req: a.child.req, name: m.name, data: m.data });
        return;
      case 'checkpoint':
        a.record.lastCheckpoint = { seq: m.info.seq, type: m.info.type, step: m.info.step, total: m.info.total, time: m.info.time };
        events.emit('task:checkpoint', { id: a.id, ...m.info });
        return;
      case 'child':
        void this.host.children.start(a, m.req, m.spec);
        return;
      case 'child-cancel': {
        if (this.host.children.cancelQueued(a, m.req, m.reason)) return;
        for (const c of a.children) if (c.child?.req === m.req) this.requestCancel(c, 'cancel', m.reason);
        return;
      }
    }
  }

  /** Cooperative first: the plugin's signal fires; after the grace period the thread is stopped. */
  requestCancel(a: Active, kind: CancelKind, reason: string): void {
    if (a.cancelKind || a.settled) return;
    a.cancelKind = kind;
    a.cancelReason = reason;
    for (const c of a.children) this.requestCancel(c, kind, `parent ${a.id}: ${reason}`);
    if (!a.handle) return;
    if (!a.started && kind === 'interrupt') {
      a.killed = true;
      a.handle.kill();
      return;
    }
    if (a.started) a.handle.send({ type: 'cancel', reason });
    else a.pendingCancel = reason;
    const graceMs = this.host.spec.cancel.graceMs;
    a.timers.push(
      setTimeout(() => {
        if (!this.active.has(a.id)) return;
        this.host.log('warn', `${a.id} did not stop within ${graceMs} ms; terminating it`);
        a.killed = true;
        a.handle!.kill();
      }, graceMs),
    );
  }

  /** Stops every running task at once, without a checkpoint (this runner may no longer write). */
  killAll(reason: string): void {
    for (const a of this.active.values()) {
      if (a.settled) continue;
      a.cancelKind = 'interrupt';
      a.cancelReason = reason;
      a.killed = true;
      a.handle?.kill();
    }
  }
}
