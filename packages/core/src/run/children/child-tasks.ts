/**
 * Child tasks (`ctx.runChild`): requests from a running task. Each is validated, given a record
 * (`<parent>/<key>`, kept across restarts so a finished child is not run again), and queued ahead
 * of top-level work; its result goes back to the parent's worker.
 */
import type { ResolvedJobSpec, ResolvedStage } from '../../config/types.js';
import { resolveStageOptions } from '../../config/options.js';
import { formatPath } from '../../config/source.js';
import { childTaskInvalid, isRunnerError, serializeError, taskAborted, type SerializedError } from '../../errors.js';
import { loadPluginModule, resolvePluginEntry, type LoadedPlugin } from '../../plugin/load.js';
import type { ChildTaskSpec } from '../../plugin/types.js';
import type { RunStore, TaskOutcome } from '../../store/lmdb-store.js';
import type { TaskState } from '../../store/types.js';
import type { Active, ChildRequest } from '../active.js';
import { optionsFingerprint } from '../plan.js';
import type { SlotGrant, SlotLedger } from '../slots/slot-ledger.js';
import { childKeyProblem, childStage } from './child-key.js';

export type ChildReply = { ok: true; result: unknown } | { ok: false; error: SerializedError };

export interface ChildHost {
  readonly spec: ResolvedJobSpec;
  store(): RunStore;
  stopping(): boolean;
  /** Is a task with this id running here? */
  isActive(id: string): boolean;
  kick(): void;
  onStoreError(err: unknown): void;
}

export class ChildTasks {
  /** Validated requests waiting for a slot, oldest first. */
  readonly queue: ChildRequest[] = [];

  constructor(private readonly host: ChildHost) {}

  /** Validates a request, ensures its record and queues it (or answers at once). */
  async start(parent: Active, req: number, spec: ChildTaskSpec): Promise<void> {
    const fail = (message: string, hint?: string) =>
      parent.handle?.send({ type: 'child-result', req, ok: false, error: serializeError(childTaskInvalid(parent.id, message, hint)) });
    try {
      const bad = childKeyProblem(spec?.key, { stopping: this.host.stopping() || !!parent.cancelKind, isChild: !!parent.child });
      if (bad) return fail(bad.message, bad.hint);
      let stage: ResolvedStage | undefined;
      let plugin: LoadedPlugin | undefined;
      if (spec.stage) {
        const found = childStage(this.host.spec, spec.stage);
        if (!('stage' in found)) return fail(found.message, found.hint);
        stage = found.stage;
        plugin = stage.plugin;
      } else if (spec.plugin) {
        const { projectRoot } = this.host.spec.source;
        const found = resolvePluginEntry(spec.plugin, projectRoot, [projectRoot]);
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
      if (this.host.isActive(id) || this.queue.some((c) => c.id === id)) return fail(`child ${id} is already running`);
      const fp = optionsFingerprint(plugin, options);
      const store = this.host.store();
      let rec = await store.ensureChild({
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
      const c: ChildRequest = { id, parent, req, plugin, stage, options, fingerprint: fp.fingerprint, targets: fp.targets, resources: { ...(stage?.resources ?? {}) } };
      if (rec.state === 'completed') return this.reply(c, { ok: true, result: rec.result });
      if (rec.state === 'failed' || rec.state === 'cancelled') {
        await store.resume([id]);
        rec = store.getTask(id)!;
      }
      if (rec.state === 'running') return fail(`child ${id} is running under another runner`);
      this.queue.push(c);
      this.host.kick();
    } catch (err) {
      if (isRunnerError(err)) parent.handle?.send({ type: 'child-result', req, ok: false, error: serializeError(err) });
      else this.host.onStoreError(err);
    }
  }

  /**
   * Takes queued children while slots allow, oldest first: each runs on its parent's slot when
   * the parent lends it (one child at a time, not while the parent is being cancelled), else on a
   * free slot of the pool. Stops at the first that cannot start, so children keep their order.
   */
  takeRunnable(slots: SlotLedger<Active>): { child: ChildRequest; grant: SlotGrant<Active> }[] {
    const out: { child: ChildRequest; grant: SlotGrant<Active> }[] = [];
    while (this.queue.length > 0) {
      const c = this.queue[0]!;
      const grant = slots.takeForChild(c.parent, c.resources, !c.parent.cancelKind);
      if (!grant) break;
      this.queue.shift();
      out.push({ child: c, grant });
    }
    return out;
  }

  reply(c: ChildRequest, r: ChildReply): void {
    c.parent.handle?.send(r.ok ? { type: 'child-result', req: c.req, ok: true, result: r.result } : { type: 'child-result', req: c.req, ok: false, error: r.error });
  }

  /** The parent cancelled a child that is still queued: it is cancelled in the store and answered. Returns false when none was queued. */
  cancelQueued(parent: Active, req: number, reason: string): boolean {
    const queued = this.queue.findIndex((c) => c.parent === parent && c.req === req);
    if (queued < 0) return false;
    const [c] = this.queue.splice(queued, 1);
    void this.host
      .store()
      .cancel([c!.id], () => true)
      .then(() => this.reply(c!, { ok: false, error: serializeError(taskAborted(c!.id, reason)) }));
    return true;
  }

  /**
   * A child's outcome is recorded (`state` as stored): a retry is queued again at its time (the
   * parent keeps waiting) unless the run is stopping; otherwise the parent gets the result or the error.
   */
  ended(c: ChildRequest, state: TaskState, o: TaskOutcome, stopping: boolean): void {
    if (state === 'pending' && o.state === 'pending' && o.retryAt !== undefined && !stopping) {
      setTimeout(() => {
        this.queue.push(c);
        this.host.kick();
      }, Math.max(0, o.retryAt - Date.now()));
    } else if (state === 'completed') {
      this.reply(c, { ok: true, result: o.state === 'completed' ? o.result : undefined });
    } else {
      const error = 'error' in o ? o.error : undefined;
      const note = 'note' in o ? o.note : undefined;
      this.reply(c, { ok: false, error: error ?? serializeError(taskAborted(c.id, note ?? state)) });
    }
  }

  /** The run stops: every queued child is answered with `error`. */
  rejectAll(error: (c: ChildRequest) => SerializedError): void {
    for (const c of this.queue.splice(0)) this.reply(c, { ok: false, error: error(c) });
  }
}
