import type { ResolvedJobSpec } from '../config/types.js';
import { ownerAlive, type RunStore, type StageSnapshot } from '../store/lmdb-store.js';
import type { TaskRecord } from '../store/types.js';
import { planRun, stageSnapshot, type PlannedTask } from './plan.js';

export type PlanAction = 'complete' | 'run' | 'resume' | 'rerun' | 'new' | 'running' | 'failed' | 'cancelled' | 'blocked';

export interface PlannedChange {
  id: string;
  action: PlanAction;
  /** Why, for rerun, resume, new and blocked tasks. */
  reason?: string;
  /** Option paths that differ from the stored run (rerun, or a changed target). */
  keys?: string[];
}

export interface StagePlan {
  id: string;
  plugin: string;
  total: number;
  counts: Record<PlanAction, number>;
  /** Options that differ from the last run (dotted paths), when the store knows them. */
  changedKeys: string[];
  tasks: PlannedChange[];
}

export interface DryRun {
  name: string;
  runDir: string;
  started: boolean;
  runners: number;
  /** Tasks `runner start` would run: new, pending, resumed and reopened ones. */
  willRun: number;
  stages: StagePlan[];
}

/**
 * What `runner start` would do with this spec and store, computed the way the store's plan sync
 * decides it, without writing anything: per stage, tasks that are complete, would run, resume
 * from a checkpoint, rerun (and why: changed options with the differing keys, a raised target,
 * an upstream rerun), are new (a new cell, stage or cycle), or cannot run.
 */
export function dryRun(spec: ResolvedJobSpec, store: RunStore | undefined): DryRun {
  const plan = planRun(spec);
  const records = new Map<string, TaskRecord>();
  if (store) for (const { key, value } of store.storedTasks()) if (plan.byId.has(key)) records.set(key, value);
  const storedCycles = new Set([...records.values()].map((r) => r.cycle));
  const before: StageSnapshot = store?.getStageSnapshot() ?? {};
  const now = stageSnapshot(spec);
  const live = store ? store.listOwners().filter((o) => ownerAlive(o)) : [];
  const stageKeys = new Map<string, string[]>();
  for (const s of spec.stages) stageKeys.set(s.id, before[s.id] ? diffKeys(before[s.id]!.options, now[s.id]!.options) : []);

  const changes = new Map<string, PlannedChange>();
  const reopened = new Map<string, string>();
  for (const t of plan.tasks) {
    const rec = records.get(t.id);
    if (!rec) {
      const why = !store ? 'the run has not started' : !storedCycles.has(t.cycle) ? `new cycle ${t.cycle}` : records.size === 0 ? 'not stored yet' : newWhy(t, records, spec);
      changes.set(t.id, { id: t.id, action: 'new', reason: why });
      continue;
    }
    const keys = stageKeys.get(t.stage) ?? [];
    const sameFp = rec.fingerprint === t.fingerprint;
    const sameTargets = rec.targets === t.targets;
    if (rec.state === 'completed' && !sameFp) reopened.set(t.id, 'its options changed');
    else if (rec.state === 'completed' && !sameTargets) reopened.set(t.id, 'a resume-safe target changed; it resumes from its last checkpoint');
    if (reopened.has(t.id)) {
      changes.set(t.id, { id: t.id, action: 'rerun', reason: reopened.get(t.id), keys: keys.length ? keys : undefined });
      continue;
    }
    const c: PlannedChange = { id: t.id, action: 'run' };
    if (rec.state === 'completed') c.action = 'complete';
    else if (rec.state === 'running') {
      const alive = rec.owner && live.some((o) => o.id === rec.owner!.id);
      c.action = alive ? 'running' : 'resume';
      if (!alive) c.reason = `interrupted (its runner is gone)${rec.lastCheckpoint ? `; resumes from checkpoint #${rec.lastCheckpoint.seq} at step ${rec.lastCheckpoint.step}` : '; starts fresh'}`;
    } else if (rec.state === 'failed' || rec.state === 'cancelled') {
      c.action = rec.state;
      c.reason = `not run: ${rec.state} (\`runner resume\` first)`;
    } else if (rec.lastCheckpoint) {
      c.action = 'resume';
      c.reason = sameFp ? `from checkpoint #${rec.lastCheckpoint.seq} at step ${rec.lastCheckpoint.step}${rec.lastCheckpoint.total ? `/${rec.lastCheckpoint.total}` : ''}` : 'its options changed: its checkpoints no longer apply, it starts fresh';
      if (!sameFp) c.action = 'run';
    }
    if (!sameFp && keys.length && c.action !== 'complete') c.keys = keys;
    changes.set(t.id, c);
  }
  // Downstream of a rerun reruns too.
  const queue = [...reopened.keys()];
  while (queue.length > 0) {
    const id = queue.pop()!;
    for (const d of plan.dependents.get(id) ?? []) {
      const c = changes.get(d)!;
      if (c.action === 'complete') {
        changes.set(d, { id: d, action: 'rerun', reason: `upstream ${id} reruns` });
        queue.push(d);
      }
    }
  }
  // What cannot run because something it needs failed or was cancelled.
  const blocked = (t: PlannedTask, seen = new Set<string>()): string | undefined => {
    for (const n of t.needs) {
      const a = changes.get(n)?.action;
      if (a === 'failed' || a === 'cancelled') return n;
      if (!seen.has(n) && (a === 'run' || a === 'new' || a === 'resume')) {
        seen.add(n);
        const b = blocked(plan.byId.get(n)!, seen);
        if (b) return b;
      }
    }
    return undefined;
  };
  for (const t of plan.tasks) {
    const c = changes.get(t.id)!;
    if (c.action === 'run' || c.action === 'new' || c.action === 'resume' || c.action === 'rerun') {
      const b = blocked(t);
      if (b) changes.set(t.id, { id: t.id, action: 'blocked', reason: `needs ${b}, which is ${changes.get(b)!.action}` });
    }
  }
  const stages: StagePlan[] = spec.stages.map((s) => {
    const tasks = plan.tasks.filter((t) => t.stage === s.id).map((t) => changes.get(t.id)!);
    const counts = { complete: 0, run: 0, resume: 0, rerun: 0, new: 0, running: 0, failed: 0, cancelled: 0, blocked: 0 } as Record<PlanAction, number>;
    for (const c of tasks) counts[c.action]++;
    return { id: s.id, plugin: s.plugin.name, total: tasks.length, counts, changedKeys: stageKeys.get(s.id) ?? [], tasks };
  });
  const willRun = stages.reduce((a, s) => a + s.counts.run + s.counts.resume + s.counts.rerun + s.counts.new, 0);
  return { name: spec.name, runDir: spec.runDir, started: !!store, runners: live.length, willRun, stages };
}

function newWhy(t: PlannedTask, records: Map<string, TaskRecord>, spec: ResolvedJobSpec): string {
  const stageKnown = [...records.values()].some((r) => r.stage === t.stage);
  if (!stageKnown) return `new stage ${t.stage}`;
  const keys = Object.keys(spec.matrix);
  return keys.length ? 'new cell' : 'new task';
}

/** Dotted paths whose values differ between two option objects. */
export function diffKeys(a: unknown, b: unknown, prefix = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(a) || !isObj(b)) return [prefix || '(options)'];
  const out: string[] = [];
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) out.push(...diffKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  return out;
}
