import type { EventEmitter } from 'eventemitter3';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveStageOptions } from '../config/options.js';
import type { ResolvedJobSpec, ResolvedStage } from '../config/types.js';
import { formatPath } from '../config/source.js';
import {
  childTaskInvalid,
  isRunnerError,
  leaseLost,
  pluginFailed,
  quietCommitError,
  serializeError,
  storeUnwritable,
  taskAborted,
  taskCrashed,
  taskNotFound,
  taskTimeout,
  type SerializedError,
  isBadInput,
} from '../errors.js';
import type { RunnerEvents, TaskStartEvent } from '../events.js';
import type { RunnerError } from '../errors.js';
import { loadPluginModule, majorOf, resolvePluginEntry, type LoadedPlugin } from '../plugin/load.js';
import type { ChildTaskSpec, UpstreamTask } from '../plugin/types.js';
import { RunStore, type Retention, type TaskOutcome } from '../store/lmdb-store.js';
import { environmentFault } from './environment-fault.js';
import { LeaseObserver } from './liveness.js';
import { SafeEmitter } from './safe-emitter.js';
import { emptyCounts, type OwnerRecord, type OwnerRef, type StateCounts, type TaskProgress, type TaskRecord, type TaskState } from '../store/types.js';
import { HOST, procStartTime } from '../util/proc.js';
import { recoverEventLog } from './event-log-recover.js';
import { EVENTS_FILE } from './event-log.js';
import { ProcessExecutor, ThreadExecutor, type RunningHandle } from './executors.js';
import { artifactDirFor } from '../util/run-paths.js';
import { idMatcher, optionsFingerprint, planRun, stageSnapshot, type Plan, type PlannedTask } from './plan.js';
import type { ExecOutcome, TaskPayload, WorkerMessage } from '../worker/protocol.js';

export interface RunnerOptions {
  /** Run only tasks whose id matches one of these patterns (`*` wildcards). */
  only?: string[];
  /** Interval for persisting progress to the store. @default 1000 */
  progressFlushMs?: number;
  /** Narrows the planned tasks, e.g. to one shard's (`runner start --shard`). */
  plan?: (full: Plan) => Plan;
}

export interface RunSummary {
  name: string;
  exitCode: number;
  counts: StateCounts;
  /** Pending tasks that cannot run because something they need failed or was cancelled. */
  blocked: number;
  failed: string[];
  durationMs: number;
  interrupted: boolean;
  /** A runner-level failure, e.g. the store became unwritable. */
  error?: SerializedError;
}

interface Node {
  t: PlannedTask;
  state: TaskState;
  /** Needs not yet completed. */
  waiting: number;
  retryAt?: number;
  queued: boolean;
  selected: boolean;
  /** Only-filter: may this runner start it? */
  eligible: boolean;
}

interface ChildRequest {
  id: string;
  parent: Active;
  req: number;
  plugin: LoadedPlugin;
  stage?: ResolvedStage;
  options: Record<string, unknown>;
  fingerprint: string;
  targets: string;
  resources: Record<string, number>;
  lend: boolean;
}

interface Active {
  id: string;
  node?: Node;
  child?: ChildRequest;
  plugin: LoadedPlugin;
  stage?: ResolvedStage;
  record: TaskRecord;
  handle?: RunningHandle;
  startedAt: number;
  started: boolean;
  cancelKind?: 'cancel' | 'interrupt' | 'timeout';
  cancelReason?: string;
  killed?: boolean;
  timers: NodeJS.Timeout[];
  /** Holds one of the pool's slots (false when running on a slot lent by its parent). */
  ownSlot: boolean;
  /** Its outcome is being recorded; no more cancels. */
  settled?: boolean;
  /** When the worker began executing (after any wait in the pool's queue). */
  execStart?: number;
  /** A cancel requested before the worker started; sent once it has. */
  pendingCancel?: string;

  /** The child currently running on this task's slot. */
  lentTo?: Active;
  /** A child was picked to run on this slot and is being claimed. */
  lendReserved?: boolean;
  gpus: number[];
  children: Set<Active>;
}

const PREFETCH_BELOW_MS = 25;

/**
 * Runs a job spec to completion against its store: resets stale work, plans, claims tasks with
 * leases, runs them on the pool, and records every state change atomically. Start it again after
 * any interruption and it continues where it stopped.
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
  private nodes = new Map<string, Node>();
  private ready: Node[][] = [];
  private delayed = new Set<Node>();
  private delayTimer?: NodeJS.Timeout;
  private active = new Map<string, Active>();
  private childQueue: ChildRequest[] = [];
  private busySlots = 0;
  private freeGpus: number[] = [];
  private threads?: ThreadExecutor;
  private processes?: ProcessExecutor;
  private kickScheduled = false;
  private waitNoticeAt = 0;
  private lent = 0;
  private claiming = 0;
  private stopping = false;
  private stopReason = '';
  private fatal?: SerializedError;
  private lastSeq = 0;
  private timers: NodeJS.Timeout[] = [];
  private progress = new Map<string, TaskProgress>();
  private finishResolve?: () => void;
  private avgRunMs = Infinity;
  private started = 0;
  private retention: Retention;
  private settling = 0;
  private readonly leases = new LeaseObserver();
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
    this.freeGpus = Array.from({ length: spec.pool.gpus }, (_, i) => i);
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
      counts: this.countStates(),
      threads: this.spec.pool.threads,
      notes,
      toRun: this.toRunByStage(),
    });
    const finished = new Promise<void>((resolve) => (this.finishResolve = resolve));
    this.startTimers();
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
    this.stopReason = reason;
    const n = this.active.size;
    this.log('warn', `${reason}: stopping; ${n} running task${n === 1 ? '' : 's'} will save a checkpoint (again to exit at once)`);
    this.events.emit('run:stopping', { reason });
    for (const b of this.ready) b.length = 0;
    for (const a of this.active.values()) this.requestCancel(a, 'interrupt', `interrupted by ${reason}`);
    for (const c of this.childQueue.splice(0)) this.replyChild(c, { ok: false, error: serializeError(taskAborted(c.id, `interrupted by ${reason}`)) });
    this.checkDone();
  }

  // ------------------------------------------------------------------ startup

  private async open(): Promise<string[]> {
    const notes: string[] = [];
    this.store = RunStore.open(this.spec.runDir);
    if (this.store.files?.lockWasMissing) {
      const live = this.store.listOwners().filter((o) => !this.isStale(o, o));
      if (live.length > 0) {
        await this.store.close().catch(() => {});
        const o = live[0]!;
        throw leaseLost(
          `the store's lock file was missing although runner pid ${o.pid} on ${o.host} is working on ${this.spec.name}: it was deleted while that runner ran, so this runner cannot share the run safely`,
          `That runner notices within lease.heartbeatMs and stops. Start again once it has stopped; nothing committed is lost.`,
        );
      }
    }
    try {
      await this.store.initMeta(this.spec.name, this.spec.source.specPath);
      const me: OwnerRecord = {
        ...this.owner,
        procStart: procStartTime(process.pid),
        startedAt: Date.now(),
        heartbeatAt: Date.now(),
        leaseMs: this.spec.lease.ttlMs,
        threads: this.spec.pool.threads,
        argv: process.argv.slice(1),
      };
      const others = this.store.listOwners().filter((o) => !this.isStale(o, o));
      if (others.length === 0) {
        // With another runner alive, its unwritten lines are still to come: leave the file to it.
        const recovered = recoverEventLogSafely(this.spec.runDir, this.store);
        if (recovered > 0) notes.push(`${recovered} committed event${recovered === 1 ? '' : 's'} missing from ${EVENTS_FILE} (written in batches, lost in a crash) appended from the store, marked "recovered"`);
      }
      await this.store.registerOwner(me);
      for (const o of others) notes.push(`another runner (pid ${o.pid} on ${o.host}) is working on this run; tasks are shared, none runs twice`);
      const reset = await this.store.resetStale((o, rec) => this.isStale(o, rec));
      if (reset.length > 0) notes.push(`${reset.length} task${reset.length === 1 ? ' was' : 's were'} left running by a runner that is gone; reset to pending: ${summariseIds(reset.map((r) => r.id))}`);
      notes.push(...quarantineNotes(reset));
      this.plan = planRun(this.spec);
      if (this.options.plan) this.plan = this.options.plan(this.plan);
      for (const pattern of this.options.only ?? []) {
        const m = idMatcher(pattern);
        if (!this.plan.tasks.some((t) => m(t.id))) {
          throw taskNotFound(pattern, `--only ${pattern} matches none of the ${this.plan.tasks.length} planned tasks (ids look like ${this.plan.tasks[0]?.id ?? 'stage/key=value/cycle=1'}); nothing was run. List them with \`runner tasks ${this.spec.source.specPath}\`.`);
        }
      }
      const meta = this.store.getMeta();
      if (meta?.planDigest !== this.plan.digest) {
        const sync = await this.store.syncPlan(this.plan.tasks, this.plan.dependents);
        for (const r of sync.rerun) notes.push(`${r.id} reruns: ${r.reason}`);
        if (sync.invalidated.length > 0) notes.push(`options changed for ${summariseIds(sync.invalidated)}; their checkpoints no longer apply, so they start fresh`);
        await this.store.setPlanDigest(this.plan.digest);
      }
      if (meta?.planDigest !== this.plan.digest || !this.store.getStageSnapshot()) await this.store.setStageSnapshot(stageSnapshot(this.spec));
      await this.store.trimEvents(200_000);
    } catch (err) {
      await this.store.removeOwner(this.owner.id).catch(() => {});
      await this.store.close().catch(() => {});
      throw err;
    }
    this.lastSeq = this.store.lastEventSeq();
    this.buildGraph();
    const maxThreads = this.spec.pool.threads * 2;
    this.threads = new ThreadExecutor({ threads: this.spec.pool.threads, maxThreads, maxOldGenerationSizeMb: this.spec.pool.maxOldGenerationSizeMb });
    this.processes = new ProcessExecutor();
    return notes;
  }

  private buildGraph(): void {
    const matchers = (this.options.only ?? []).map(idMatcher);
    for (const t of this.plan.tasks) {
      this.nodes.set(t.id, {
        t,
        state: 'pending',
        waiting: 0,
        retryAt: undefined,
        queued: false,
        selected: false,
        eligible: matchers.length === 0 || matchers.some((m) => m(t.id)),
      });
    }
    // Straight from the compact index into the nodes: no intermediate map of 100k entries.
    for (const [id, e] of this.store.stateEntries()) {
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
    const maxStage = Math.max(0, ...this.spec.stages.map((s) => s.index));
    this.ready = Array.from({ length: maxStage + 1 }, () => []);
    // Interrupted tasks with checkpoints go first within their stage: their work is half done.
    const resumable = this.tasksWithCheckpoints();
    for (const n of this.nodes.values()) if (resumable.has(n.t.id)) this.enqueueIfReady(n);
    for (const n of this.nodes.values()) this.enqueueIfReady(n);
  }

  private startTimers(): void {
    const hb = setInterval(() => void this.tick(), this.spec.lease.heartbeatMs);
    const pf = setInterval(() => void this.flushProgress(), this.options.progressFlushMs ?? 1000);
    this.timers.push(hb, pf);
  }

  private isStale(o: OwnerRef, rec?: OwnerRecord): boolean {
    if (o.id === this.owner.id) return false;
    return !rec || !this.leases.alive(rec);
  }

  /** When a pending task may start: its stored retry time, but never further off than its backoff allows (a wall clock jumped back). */
  private dueAt(n: Node): number | undefined {
    if (n.retryAt === undefined) return undefined;
    const cap = Date.now() + n.t.stageDef.retries.backoff.maxMs;
    return Math.min(n.retryAt, cap);
  }

  // ------------------------------------------------------------------ scheduling

  private enqueueIfReady(n: Node): void {
    if (n.state !== 'pending' || n.waiting > 0 || n.queued || n.selected || !n.eligible || this.stopping) return;
    n.retryAt = this.dueAt(n);
    if (n.retryAt !== undefined && n.retryAt > Date.now()) {
      this.delayed.add(n);
      this.armDelayTimer();
      return;
    }
    n.queued = true;
    this.ready[n.t.stageDef.index]!.push(n);
  }

  private armDelayTimer(): void {
    if (this.delayTimer) clearTimeout(this.delayTimer);
    let next = Infinity;
    for (const n of this.delayed) next = Math.min(next, n.retryAt ?? 0);
    if (next === Infinity) return;
    this.delayTimer = setTimeout(() => {
      this.delayTimer = undefined;
      const now = Date.now();
      for (const n of [...this.delayed]) {
        if ((n.retryAt ?? 0) <= now) {
          this.delayed.delete(n);
          n.retryAt = undefined;
          this.enqueueIfReady(n);
        }
      }
      this.armDelayTimer();
      this.kick();
    }, Math.max(0, next - Date.now()));
  }

  private window(): number {
    const t = this.spec.pool.threads;
    return this.avgRunMs < PREFETCH_BELOW_MS ? Math.max(256, t * 64) : t;
  }

  private popReady(): Node | undefined {
    for (let s = this.ready.length - 1; s >= 0; s--) {
      const bucket = this.ready[s]!;
      for (let i = 0; i < bucket.length; i++) {
        const n = bucket[i]!;
        if (!this.fits(n.t.stageDef.resources)) continue;
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

  private fits(res: Readonly<Record<string, number>>): boolean {
    return (res.gpu ?? 0) <= this.freeGpus.length;
  }

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
    const picks: { node?: Node; child?: ChildRequest; gpus: number[] }[] = [];
    while (this.childQueue.length > 0) {
      const c = this.childQueue[0]!;
      const lend = !c.parent.lentTo && !c.parent.lendReserved && !c.parent.cancelKind;
      if (!lend && this.busySlots >= this.spec.pool.threads) break;
      if (!this.fits(c.resources)) break;
      this.childQueue.shift();
      c.lend = lend;
      if (lend) c.parent.lendReserved = true;
      else this.busySlots++;
      picks.push({ child: c, gpus: this.takeGpus(c.resources.gpu ?? 0) });
    }
    const win = this.window();
    while (this.busySlots < win) {
      const n = this.popReady();
      if (!n) break;
      n.selected = true;
      this.busySlots++;
      picks.push({ node: n, gpus: this.takeGpus(n.t.stageDef.resources.gpu ?? 0) });
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
        if (p.child?.lend) p.child.parent.lendReserved = false;
        if (!rec) {
          this.releaseGpus(p.gpus);
          if (p.node) {
            p.node.selected = false;
            this.busySlots--;
            this.refreshNode(p.node);
          } else {
            if (!p.child!.lend) this.busySlots--;
            this.replyChild(p.child!, { ok: false, error: serializeError(childTaskInvalid(p.child!.parent.id, `child ${id} could not be claimed (another runner holds it)`)) });
          }
          continue;
        }
        if (p.node) {
          p.node.selected = false;
          this.setState(p.node, 'running');
        }
        this.dispatch(rec, p.node, p.child, p.gpus);
      }
    } catch (err) {
      this.onStoreError(err);
    } finally {
      this.claiming--;
    }
    this.kick();
    this.checkDone();
  }

  /** Children running on lent slots need threads beyond the pool's slots. */
  private setLent(delta: number): void {
    this.lent += delta;
    if (this.threads) {
      this.threads.capacity = this.spec.pool.threads + this.lent;
      this.threads.drain();
    }
  }

  private takeGpus(n: number): number[] {
    return n > 0 ? this.freeGpus.splice(0, n) : [];
  }

  private releaseGpus(g: number[]): void {
    if (g.length > 0) this.freeGpus.push(...g);
  }

  private setState(n: Node, state: TaskState): void {
    const was = n.state;
    if (was === state) return;
    n.state = state;
    if (was === 'completed' || state === 'completed') {
      for (const d of this.plan.dependents.get(n.t.id) ?? []) {
        const dn = this.nodes.get(d);
        if (!dn) continue;
        dn.waiting += state === 'completed' ? -1 : 1;
        this.enqueueIfReady(dn);
      }
    }
    this.enqueueIfReady(n);
  }

  private refreshNode(n: Node): void {
    const rec = this.store.getTask(n.t.id);
    if (!rec) return;
    n.retryAt = rec.retryAt;
    const was = n.state;
    this.setState(n, rec.state);
    if (was !== rec.state && rec.state === 'pending' && rec.lastCheckpoint && n.queued) {
      // Resumed with a checkpoint: move it ahead of fresh tasks of its stage.
      const bucket = this.ready[n.t.stageDef.index]!;
      const i = bucket.indexOf(n);
      if (i > 0) {
        bucket.splice(i, 1);
        bucket.unshift(n);
      }
    }
    if (was !== rec.state) {
      this.events.emit('task:state', { id: n.t.id, stage: n.t.stage, from: was, to: rec.state });
      this.events.emit('run:remaining', { toRun: this.toRunByStage() });
    }
  }

  /** Ids of pending tasks that have checkpoints (one key read per task with any). */
  private tasksWithCheckpoints(): Set<string> {
    const out = new Set<string>();
    let last = '';
    for (const key of this.store.checkpoints.getKeys()) {
      const id = (key as [string, number])[0];
      if (id === last) continue;
      last = id;
      if (this.nodes.get(id)?.state === 'pending') out.add(id);
    }
    return out;
  }

  // ------------------------------------------------------------------ running a task

  private dispatch(rec: TaskRecord, node: Node | undefined, child: ChildRequest | undefined, gpus: number[]): void {
    const plugin = node ? node.t.stageDef.plugin : child!.plugin;
    const stage = node ? node.t.stageDef : child!.stage;
    const a: Active = {
      id: rec.id,
      node,
      child,
      plugin,
      stage,
      record: rec,
      startedAt: Date.now(),
      started: false,
      timers: [],
      ownSlot: node ? true : !child!.lend,
      gpus,
      children: new Set(),
    };
    if (child) {
      child.parent.children.add(a);
      if (child.lend) {
        child.parent.lentTo = a;
        this.setLent(+1);
      }
    }
    this.active.set(rec.id, a);
    const { payload, resumeFrom } = this.payloadFor(a, node ? node.t.stageDef.options : child!.options);
    this.events.emit('task:start', { id: rec.id, stage: rec.stage, cell: rec.cell, attempt: rec.attempts, resumeFrom, parent: rec.parent });
    const isolation = rec.quarantine ? 'process' : (stage?.isolation ?? this.spec.pool.isolation);
    const hooks = { onMessage: (m: WorkerMessage) => this.onWorkerMessage(a, m) };
    try {
      a.handle =
        isolation === 'process'
          ? this.processes!.start(payload, hooks, gpus.length > 0 ? { CUDA_VISIBLE_DEVICES: gpus.join(',') } : {})
          : this.threads!.start(payload, hooks);
    } catch (err) {
      void this.settle(a, { ok: false, aborted: false, error: serializeError(err) });
      return;
    }
    a.handle.done.then(
      (outcome) => this.settle(a, outcome),
      (err) =>
        this.settle(a, {
          ok: false,
          aborted: a.killed ?? false,
          error: serializeError(a.killed ? taskAborted(a.id, `did not stop within ${this.spec.cancel.graceMs} ms of being cancelled; its thread was terminated`) : err),
        }),
    );
  }

  private payloadFor(a: Active, options: Readonly<Record<string, unknown>>): { payload: TaskPayload; resumeFrom?: TaskStartEvent['resumeFrom'] } {
    const rec = a.record;
    // A task that never saved a checkpoint has none to look up.
    const last = rec.checkpointSeq > 0 ? this.store.listCheckpoints(rec.id)[0] : undefined;
    const resumed = !!last && last.fingerprint === rec.fingerprint && majorOf(last.pluginVersion) === majorOf(a.plugin.version);
    const resumeFrom = resumed && last ? { seq: last.seq, step: last.step, total: last.total, type: last.type } : undefined;
    const payload: TaskPayload = {
      info: {
        id: rec.id,
        stage: rec.stage,
        plugin: a.plugin.name,
        cell: rec.cell,
        cycle: rec.cycle,
        attempt: rec.attempts,
        failures: rec.failures,
        resumed,
        run: this.spec.name,
        ...(rec.parent ? { parent: rec.parent } : {}),
      },
      pluginEntry: a.plugin.entry,
      pluginSource: a.plugin.source,
      options: options as Record<string, unknown>,
      runDir: this.spec.runDir,
      dataDir: this.spec.dataDir,
      artifactDir: artifactDirFor(this.spec.runDir, rec.id),
      upstream: this.upstreamFor(a),
      resources: a.gpus.length > 0 ? { gpu: a.gpus } : {},
      checkpoint: {
        fingerprint: rec.fingerprint,
        pluginVersion: a.plugin.version,
        keep: this.spec.checkpoints.keep,
        inlineMaxBytes: this.spec.checkpoints.inlineMaxBytes,
        lastSeq: rec.checkpointSeq,
        ownerId: this.owner.id,
      },
      progressIntervalMs: 100,
    };
    return { payload, resumeFrom };
  }

  private upstreamFor(a: Active): Record<string, UpstreamTask | UpstreamTask[]> {
    const out: Record<string, UpstreamTask | UpstreamTask[]> = {};
    const planned = a.node?.t ?? (a.child ? this.plan.byId.get(a.child.parent.id) : undefined);
    if (!planned) return out;
    const needs = a.node ? planned.upstream : this.upstreamOfStage(a.stage, planned);
    for (const u of needs) {
      const tasks: UpstreamTask[] = [];
      for (const id of u.ids) {
        const r = this.store.getTask(id);
        if (r?.state === 'completed') tasks.push({ id, stage: r.stage, cell: r.cell, result: r.result, artifactDir: artifactDirFor(this.spec.runDir, id) });
      }
      if (u.fanIn) out[u.stage] = tasks;
      else if (tasks[0]) out[u.stage] = tasks[0];
    }
    return out;
  }

  /** A child running another stage's plugin sees that stage's upstream for its parent's cell. */
  private upstreamOfStage(stage: ResolvedStage | undefined, parent: PlannedTask): PlannedTask['upstream'] {
    if (!stage) return parent.upstream;
    const out: PlannedTask['upstream'] = [];
    for (const need of stage.needs) {
      if (need === parent.stage) continue;
      const same = parent.upstream.find((u) => u.stage === need);
      if (same) {
        out.push(same);
        continue;
      }
      const sibling = this.plan.tasks.find(
        (t) => t.stage === stage.id && t.cycle === parent.cycle && Object.entries(t.cell).every(([k, v]) => parent.cell[k] === undefined || parent.cell[k] === v),
      );
      const u = sibling?.upstream.find((x) => x.stage === need);
      if (u) out.push(u);
    }
    return out;
  }

  private onWorkerMessage(a: Active, m: WorkerMessage): void {
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
        this.progress.set(a.id, p);
        this.events.emit('task:progress', { id: a.id, ...m.update });
        if (a.child) a.child.parent.handle?.send({ type: 'child-progress', req: a.child.req, update: m.update });
        return;
      }
      case 'log':
        this.events.emit('task:log', { id: a.id, level: m.level, message: m.message, data: m.data });
        return;
      case 'event':
        this.events.emit('task:event', { id: a.id, name: m.name, data: m.data });
        if (a.child) a.child.parent.handle?.send({ type: 'child-event', req: a.child.req, name: m.name, data: m.data });
        return;
      case 'checkpoint':
        a.record.lastCheckpoint = { seq: m.info.seq, type: m.info.type, step: m.info.step, total: m.info.total, time: m.info.time };
        this.events.emit('task:checkpoint', { id: a.id, ...m.info });
        return;
      case 'child':
        void this.startChild(a, m.req, m.spec);
        return;
      case 'child-cancel': {
        const queued = this.childQueue.findIndex((c) => c.parent === a && c.req === m.req);
        if (queued >= 0) {
          const [c] = this.childQueue.splice(queued, 1);
          void this.store.cancel([c!.id], () => true).then(() => this.replyChild(c!, { ok: false, error: serializeError(taskAborted(c!.id, m.reason)) }));
          return;
        }
        for (const c of a.children) if (c.child?.req === m.req) this.requestCancel(c, 'cancel', m.reason);
        return;
      }
    }
  }

  /** Cooperative first: the plugin's signal fires; after the grace period the thread is stopped. */
  private requestCancel(a: Active, kind: 'cancel' | 'interrupt' | 'timeout', reason: string): void {
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
    a.timers.push(
      setTimeout(() => {
        if (!this.active.has(a.id)) return;
        this.log('warn', `${a.id} did not stop within ${this.spec.cancel.graceMs} ms; terminating it`);
        a.killed = true;
        a.handle!.kill();
      }, this.spec.cancel.graceMs),
    );
  }

  private async settle(a: Active, outcome: ExecOutcome): Promise<void> {
    this.settling++;
    a.settled = true;
    for (const t of a.timers) clearTimeout(t);
    // The slot is free as soon as the work stops; committing the outcome need not hold it.
    if (a.ownSlot) this.busySlots--;
    a.ownSlot = false;
    const runMs = outcome.execMs ?? Date.now() - (a.execStart ?? a.startedAt);
    if (outcome.progress) {
      a.record.progress = { ...a.record.progress, ...outcome.progress, updatedAt: Date.now() };
      this.events.emit('task:progress', { id: a.id, ...outcome.progress });
    }
    const rec = a.record;
    let o: TaskOutcome;
    if (outcome.ok) {
      o = { state: 'completed', result: outcome.result, runMs };
    } else if (environmentFault(outcome.error, this.spec.runDir)) {
      // Not the task's fault: stop the run, keep the task pending, continue once the cause is fixed.
      o = { state: 'pending', runMs, note: `stopped: ${outcome.error.message}; resumes from its last checkpoint` };
      const code = environmentFault(outcome.error, this.spec.runDir);
      this.onStoreError(code === 'RUNNER_STORE_UNWRITABLE' ? wrapCause(outcome.error) : Object.assign(new Error(outcome.error.message), { code }));
    } else if (a.cancelKind === 'interrupt') {
      o = { state: 'pending', runMs, note: `${a.cancelReason}; resumes from its last checkpoint` };
    } else if (a.cancelKind === 'cancel') {
      o = { state: 'cancelled', runMs, note: a.cancelReason ?? 'cancelled' };
    } else {
      const error =
        a.cancelKind === 'timeout'
          ? serializeError(taskTimeout(a.id, a.stage?.timeoutMs ?? 0))
          : rec.quarantine && outcome.exited
            ? serializeError(taskCrashed(a.id, a.stage?.id ?? rec.stage, outcome.exited, rec.suspect?.deaths ?? 0, wrapCause(outcome.error)))
            : serializeError(pluginFailed(a.plugin.name, a.id, wrapCause(outcome.error), outcome.error.retryable !== false));
      o = this.failureOutcome(a, error, runMs);
    }
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

  private failureOutcome(a: Active, error: SerializedError, runMs: number): TaskOutcome {
    const retries = a.stage?.retries ?? { max: 0, backoff: { initialMs: 1000, factor: 2, maxMs: 300_000 } };
    const failures = (a.record.retriesUsed ?? 0) + 1;
    const retryable = error.retryable !== false && error.cause?.retryable !== false;
    if (retryable && failures <= retries.max && !this.stopping) {
      const delay = Math.min(retries.backoff.maxMs, retries.backoff.initialMs * retries.backoff.factor ** (failures - 1));
      return {
        state: 'pending',
        runMs,
        error,
        countFailure: true,
        retryAt: Date.now() + delay,
        note: `failed (${error.message}); retry ${failures} of ${retries.max} in ${formatMs(delay)}`,
      };
    }
    const why = !retryable ? 'not retryable' : retries.max === 0 ? 'no retries configured' : `${retries.max} retr${retries.max === 1 ? 'y' : 'ies'} used`;
    return { state: 'failed', runMs, error, note: `failed (${why}): ${error.message}` };
  }

  private afterSettle(a: Active, rec: TaskRecord | undefined, o: TaskOutcome, runMs: number): void {
    this.active.delete(a.id);
    this.progress.delete(a.id);
    this.releaseGpus(a.gpus);
    if (a.ownSlot) this.busySlots--;
    if (a.child) {
      const parent = a.child.parent;
      parent.children.delete(a);
      if (parent.lentTo === a) {
        parent.lentTo = undefined;
        this.setLent(-1);
      }
    }
    if (o.state === 'completed') this.avgRunMs = this.avgRunMs === Infinity ? runMs : this.avgRunMs * 0.9 + runMs * 0.1;
    const state = rec?.state ?? o.state;
    if (a.node) {
      a.node.retryAt = rec?.retryAt;
      if (rec) this.setState(a.node, state);
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
    if (a.child) {
      if (state === 'pending' && o.state === 'pending' && o.retryAt !== undefined && !this.stopping) {
        // A child retries on its own schedule; the parent keeps waiting.
        const c = a.child;
        setTimeout(() => {
          this.childQueue.push(c);
          this.kick();
        }, Math.max(0, o.retryAt - Date.now()));
      } else if (state === 'completed') {
        this.replyChild(a.child, { ok: true, result: o.state === 'completed' ? o.result : undefined });
      } else {
        this.replyChild(a.child, { ok: false, error: error ?? serializeError(taskAborted(a.id, note ?? state)) });
      }
    }
  }

  // ------------------------------------------------------------------ child tasks

  private async startChild(parent: Active, req: number, spec: ChildTaskSpec): Promise<void> {
    const fail = (message: string, hint?: string) =>
      parent.handle?.send({ type: 'child-result', req, ok: false, error: serializeError(childTaskInvalid(parent.id, message, hint)) });
    try {
      if (this.stopping || parent.cancelKind) return fail(`cannot start child "${spec?.key}": the parent is stopping`);
      if (parent.child) return fail('child tasks cannot start children of their own', 'Run the nested work inside the child, or as a stage.');
      if (typeof spec?.key !== 'string' || !/^[A-Za-z0-9][\w.=-]*$/.test(spec.key)) {
        return fail(`child key ${JSON.stringify(spec?.key)} is invalid`, 'Use letters, digits, _, ., = and -, e.g. "trial=17".');
      }
      let stage: ResolvedStage | undefined;
      let plugin: LoadedPlugin | undefined;
      if (spec.stage) {
        stage = this.spec.stages.find((s) => s.id === spec.stage);
        if (!stage) return fail(`no stage "${spec.stage}" in the job spec`, `Stages: ${this.spec.stages.map((s) => s.id).join(', ')}.`);
        plugin = stage.plugin;
      } else if (spec.plugin) {
        const found = resolvePluginEntry(spec.plugin, this.spec.source.projectRoot, [this.spec.source.projectRoot]);
        if (!found) return fail(`no plugin "${spec.plugin}"`);
        plugin = await loadPluginModule(found.entry, found.source);
      } else {
        return fail('runChild needs `stage` or `plugin`');
      }
      const { options, issues } = resolveStageOptions({ schema: plugin.schema, layers: [stage?.options ?? {}, spec.options ?? {}], params: spec.params ?? {} });
      if (issues.length > 0) {
        return fail(
          `options for child "${spec.key}" are invalid: ${issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`,
          issues[0]?.hint,
        );
      }
      const id = `${parent.id}/${spec.key}`;
      if (this.active.has(id) || this.childQueue.some((c) => c.id === id)) return fail(`child ${id} is already running`);
      const fp = optionsFingerprint(plugin, options);
      let rec = await this.store.ensureChild({
        id,
        stage: stage?.id ?? plugin.name,
        plugin: plugin.name,
        cell: parent.record.cell,
        cycle: parent.record.cycle,
        needs: [],
        fingerprint: fp.fingerprint,
        targets: fp.targets,
        pluginVersion: plugin.version,
        parent: parent.id,
      });
      const c: ChildRequest = { id, parent, req, plugin, stage, options, fingerprint: fp.fingerprint, targets: fp.targets, resources: { ...(stage?.resources ?? {}) }, lend: false };
      if (rec.state === 'completed') return this.replyChild(c, { ok: true, result: rec.result });
      if (rec.state === 'failed' || rec.state === 'cancelled') {
        await this.store.resume([id]);
        rec = this.store.getTask(id)!;
      }
      if (rec.state === 'running') return fail(`child ${id} is running under another runner`);
      this.childQueue.push(c);
      this.kick();
    } catch (err) {
      if (isRunnerError(err)) parent.handle?.send({ type: 'child-result', req, ok: false, error: serializeError(err) });
      else this.onStoreError(err);
    }
  }

  private replyChild(c: ChildRequest, r: { ok: true; result: unknown } | { ok: false; error: SerializedError }): void {
    c.parent.handle?.send(r.ok ? { type: 'child-result', req: c.req, ok: true, result: r.result } : { type: 'child-result', req: c.req, ok: false, error: r.error });
  }

  // ------------------------------------------------------------------ housekeeping

  private ticks = 0;

  /** Heartbeat: renew the lease, pick up cancel requests and other runners' changes. */
  private async tick(): Promise<void> {
    if (this.fatal) return;
    try {
      this.store.checkFiles();
      if (!(await this.store.heartbeat(this.owner.id))) {
        throw leaseLost(`this runner (pid ${process.pid} on ${this.owner.host}) was taken for dead by another runner, which removed its registration and took over its tasks; stopping at once`);
      }
      this.store.refresh();
      for (const a of this.active.values()) {
        if (a.cancelKind) continue;
        if (this.store.getTask(a.id)?.cancelRequested) this.requestCancel(a, 'cancel', 'cancelled by `runner cancel`');
      }
      if (++this.ticks % 5 === 0) for (const n of quarantineNotes(await this.store.resetStale((o, rec) => this.isStale(o, rec)))) this.log('warn', n);
      this.followOthers();
    } catch (err) {
      this.onStoreError(err);
    }
    this.kick();
  }

  /** Applies state changes other processes made (runners, `cancel`, `resume`). */
  private followOthers(): void {
    const touched = new Set<string>();
    let all = false;
    for (const ev of this.store.eventsAfter(this.lastSeq)) {
      this.lastSeq = ev.seq;
      if (ev.owner === this.owner.id) continue;
      if (ev.type === 'run:reset') all = true;
      else if (ev.task && this.nodes.has(ev.task)) touched.add(ev.task);
    }
    const ids = all ? [...this.nodes.keys()] : [...touched];
    for (const id of ids) {
      if (this.active.has(id)) continue;
      const n = this.nodes.get(id)!;
      if (n.selected) continue;
      this.refreshNode(n);
    }
  }

  private async flushProgress(): Promise<void> {
    if (this.progress.size === 0 || this.abandoned) return;
    const batch = new Map(this.progress);
    this.progress.clear();
    try {
      await this.store.saveProgress(batch, this.owner.id);
    } catch (err) {
      this.onStoreError(err);
    }
  }

  /** Stops the run because of an error outside any task (e.g. a process-level unhandled rejection). */
  fail(err: unknown): void {
    this.onStoreError(err);
  }

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
    this.fatal = serializeError(e);
    this.abandoned = true;
    this.log('error', `${e.message}. ${e.hint ?? ''}`.trim());
    this.stopping = true;
    this.stopReason = e.code;
    for (const b of this.ready) b.length = 0;
    this.delayed.clear();
    for (const c of this.childQueue.splice(0)) this.replyChild(c, { ok: false, error: this.fatal });
    for (const a of this.active.values()) {
      if (a.settled) continue;
      a.cancelKind = 'interrupt';
      a.cancelReason = e.message;
      a.killed = true;
      a.handle?.kill();
    }
    this.checkDone();
  }

  private checkDone(): void {
    if (!this.finishResolve || this.kickScheduled || this.claiming > 0 || this.settling > 0 || this.active.size > 0) return;
    if (!this.stopping) {
      if (this.childQueue.length > 0) return;
      if (this.ready.some((b) => b.length > 0)) return;
      if (this.delayed.size > 0) return;
      let elsewhere = 0;
      for (const n of this.nodes.values()) if (n.state === 'running' && n.eligible) elsewhere++;
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
    for (const t of this.timers) clearInterval(t);
    if (this.delayTimer) clearTimeout(this.delayTimer);
    await this.flushProgress();
    await this.threads?.close();
    await this.processes?.close();
    const counts = this.countStates();
    const failed = [...this.nodes.values()].filter((n) => n.state === 'failed').map((n) => n.t.id);
    const blocked = this.blockedCount();
    const interrupted = this.stopping && !this.fatal;
    // With --only, the run succeeded when the selected tasks completed.
    const all = [...this.nodes.values()].every((n) => !n.eligible || n.state === 'completed');
    // A run whose failures are all bad input (the spec's or its data's fault) exits 2, like a bad spec.
    const badInput = failed.length > 0 && failed.every((id) => isBadInput(this.store.getTask(id)?.error));
    const exitCode = this.fatal ? 1 : interrupted ? 130 : all ? 0 : badInput ? 2 : 1;
    const summary: RunSummary = {
      name: this.spec.name,
      exitCode,
      counts,
      blocked,
      failed,
      durationMs: Date.now() - this.started,
      interrupted,
      error: this.fatal,
    };
    this.events.emit('run:end', { name: this.spec.name, counts, blocked, durationMs: summary.durationMs, exitCode, interrupted });
    if (!this.abandoned) await this.store.removeOwner(this.owner.id).catch(() => {});
    await this.store.close();
    return summary;
  }

  /** Per stage, the tasks this runner may still run: pending or running, selected, not blocked. */
  private toRunByStage(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.spec.stages) out[s.id] = 0;
    const blocked = this.blockedNodes();
    for (const n of this.nodes.values()) {
      if ((n.state === 'pending' || n.state === 'running') && n.eligible && !blocked.has(n)) out[n.t.stage] = (out[n.t.stage] ?? 0) + 1;
    }
    return out;
  }

  /** Pending tasks that need, directly or further up, something failed or cancelled. */
  private blockedCount(): number {
    return this.blockedNodes().size;
  }

  private blockedNodes(): Set<Node> {
    const memo = new Map<Node, boolean>();
    const isBlocked = (n: Node): boolean => {
      const m = memo.get(n);
      if (m !== undefined) return m;
      memo.set(n, false);
      const b = n.t.needs.some((id) => {
        const d = this.nodes.get(id);
        return !!d && (d.state === 'failed' || d.state === 'cancelled' || (d.state === 'pending' && isBlocked(d)));
      });
      memo.set(n, b);
      return b;
    };
    const out = new Set<Node>();
    for (const n of this.nodes.values()) if (n.state === 'pending' && n.waiting > 0 && isBlocked(n)) out.add(n);
    return out;
  }

  private countStates(): StateCounts {
    const c = emptyCounts();
    for (const n of this.nodes.values()) c[n.state]++;
    return c;
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.events.emit('run:log', { level, message });
  }
}

/** What the crash rule decided for tasks a dead runner held, as notes for the user. */
function quarantineNotes(reset: TaskRecord[]): string[] {
  const out: string[] = [];
  for (const r of reset) {
    const q = /^\S+ (quarantined: .*)$/.exec(r.notes.at(-1) ?? '');
    if (r.quarantine && q) out.push(`${r.id} is ${q[1]}`);
  }
  return out;
}

function recoverEventLogSafely(runDir: string, store: RunStore): number {
  try {
    return recoverEventLog(runDir, store);
  } catch {
    // The log is a convenience; the store is the source of truth.
    return 0;
  }
}

function wrapCause(e: SerializedError): Error {
  const err = new Error(e.message);
  Object.assign(err, e);
  return err;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

export function summariseIds(ids: string[], max = 3): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} and ${ids.length - max} more`;
}
