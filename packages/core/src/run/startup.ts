/**
 * Opening a run: the store, this runner's registration, stale work of dead runners reset, the
 * plan made and synced with the store. What the user should know comes back as notes.
 */
import type { ResolvedJobSpec } from '../config/types.js';
import { leaseLost, taskNotFound } from '../errors.js';
import { RunStore } from '../store/lmdb-store.js';
import type { OwnerRecord, OwnerRef } from '../store/types.js';
import { procStartTime } from '../util/proc.js';
import { recoverEventLog } from './event-log-recover.js';
import { EVENTS_FILE } from './event-log.js';
import { TaskGraph } from './graph/task-graph.js';
import { quarantineNotes } from './lease/housekeeping.js';
import { idMatcher, planRun, stageSnapshot, type Plan } from './plan.js';

export interface OpenedRun {
  store: RunStore;
  plan: Plan;
  /** The plan's graph with the stored states, ready tasks queued. */
  graph: TaskGraph;
  notes: string[];
}

export interface OpenRunOptions {
  owner: OwnerRef;
  only?: string[];
  narrow?: (full: Plan) => Plan;
  isStale: (o: OwnerRef, rec?: OwnerRecord) => boolean;
  /** Called as soon as the store is open (a second signal during startup marks it exiting). */
  onStore?: (store: RunStore) => void;
  /** For the graph: a node starts waiting out its retry time. */
  onDelayed: (graph: TaskGraph) => void;
  /** The run was stopped during startup: queue nothing. */
  stopped: () => boolean;
}

export async function openRun(spec: ResolvedJobSpec, o: OpenRunOptions): Promise<OpenedRun> {
  const notes: string[] = [];
  const store = RunStore.open(spec.runDir);
  o.onStore?.(store);
  if (store.files?.lockWasMissing) {
    const live = store.listOwners().filter((x) => !o.isStale(x, x));
    if (live.length > 0) {
      await store.close().catch(() => {});
      const other = live[0]!;
      throw leaseLost(
        `the store's lock file was missing although runner pid ${other.pid} on ${other.host} is working on ${spec.name}: it was deleted while that runner ran, so this runner cannot share the run safely`,
        `That runner notices within lease.heartbeatMs and stops. Start again once it has stopped; nothing committed is lost.`,
      );
    }
  }
  let plan: Plan;
  try {
    await store.initMeta(spec.name, spec.source.specPath);
    const me: OwnerRecord = {
      ...o.owner,
      procStart: procStartTime(process.pid),
      startedAt: Date.now(),
      heartbeatAt: Date.now(),
      leaseMs: spec.lease.ttlMs,
      threads: spec.pool.threads,
      argv: process.argv.slice(1),
    };
    const others = store.listOwners().filter((x) => !o.isStale(x, x));
    if (others.length === 0) {
      // With another runner alive, its unwritten lines are still to come: leave the file to it.
      const recovered = recoverEventLogSafely(spec.runDir, store);
      if (recovered > 0) notes.push(`${recovered} committed event${recovered === 1 ? '' : 's'} missing from ${EVENTS_FILE} (written in batches, lost in a crash) appended from the store, marked "recovered"`);
    }
    await store.registerOwner(me);
    for (const x of others) notes.push(`another runner (pid ${x.pid} on ${x.host}) is working on this run; tasks are shared, none runs twice`);
    const reset = await store.resetStale((x, rec) => o.isStale(x, rec));
    if (reset.length > 0) notes.push(`${reset.length} task${reset.length === 1 ? ' was' : 's were'} left running by a runner that is gone; reset to pending: ${summariseIds(reset.map((r) => r.id))}`);
    notes.push(...quarantineNotes(reset));
    plan = planRun(spec);
    if (o.narrow) plan = o.narrow(plan);
    for (const pattern of o.only ?? []) {
      const m = idMatcher(pattern);
      if (!plan.tasks.some((t) => m(t.id))) {
        throw taskNotFound(pattern, `--only ${pattern} matches none of the ${plan.tasks.length} planned tasks (ids look like ${plan.tasks[0]?.id ?? 'stage/key=value/cycle=1'}); nothing was run. List them with \`runner tasks ${spec.source.specPath}\`.`);
      }
    }
    const meta = store.getMeta();
    if (meta?.planDigest !== plan.digest) {
      const sync = await store.syncPlan(plan.tasks, plan.dependents);
      for (const r of sync.rerun) notes.push(`${r.id} reruns: ${r.reason}`);
      if (sync.invalidated.length > 0) notes.push(`options changed for ${summariseIds(sync.invalidated)}; their checkpoints no longer apply, so they start fresh`);
      await store.setPlanDigest(plan.digest);
    }
    if (meta?.planDigest !== plan.digest || !store.getStageSnapshot()) await store.setStageSnapshot(stageSnapshot(spec));
    await store.trimEvents(200_000);
  } catch (err) {
    await store.removeOwner(o.owner.id).catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
  return { store, plan, notes, graph: loadGraph(store, plan, o) };
}

function loadGraph(store: RunStore, plan: Plan, o: OpenRunOptions): TaskGraph {
  const matchers = (o.only ?? []).map(idMatcher);
  const graph = new TaskGraph(plan.tasks, {
    dependents: plan.dependents,
    eligible: (id) => matchers.length === 0 || matchers.some((m) => m(id)),
    onDelayed: o.onDelayed,
  });
  if (o.stopped()) graph.close();
  // Straight from the compact index into the nodes: no intermediate map of 100k entries.
  graph.load(store.stateEntries(), () => pendingWithCheckpoints(store, graph));
  return graph;
}

/** Ids of pending tasks that have checkpoints (one key read per task with any). */
function pendingWithCheckpoints(store: RunStore, graph: TaskGraph): Set<string> {
  const out = new Set<string>();
  let last = '';
  for (const key of store.checkpointKeys()) {
    const id = (key as [string, number])[0];
    if (id === last) continue;
    last = id;
    if (graph.nodes.get(id)?.state === 'pending') out.add(id);
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

export function summariseIds(ids: string[], max = 3): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} and ${ids.length - max} more`;
}
