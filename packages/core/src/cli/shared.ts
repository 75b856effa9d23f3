import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { loadJobSpec } from '../config/load.js';
import type { ResolvedJobSpec } from '../config/types.js';
import { errnoCode, taskNotFound } from '../errors.js';
import { idMatcher, planRun, type Plan } from '../run/plan.js';
import { ownerAlive, RunStore, STORE_FILE } from '../store/lmdb-store.js';
import { taskRecordProblem } from '../store/integrity.js';
import type { OwnerRecord, TaskRecord } from '../store/types.js';

export interface SpecArgs {
  spec: string;
  set?: string[];
  json?: boolean;
}

export function withSpec<T>(y: Argv<T>): Argv<T & SpecArgs> {
  return y
    .positional('spec', { type: 'string', describe: 'Path to the YAML job spec', demandOption: true })
    .option('set', {
      type: 'string',
      array: true,
      // One value per --set, so a following positional is not taken for an override.
      nargs: 1,
      describe: 'Override a spec value: key=value (repeatable), e.g. --set pool.threads=4 --set stages.work.options.steps=300',
    }) as unknown as Argv<T & SpecArgs>;
}

export function withJson<T>(y: Argv<T>): Argv<T & { json?: boolean }> {
  return y.option('json', { type: 'boolean', describe: 'Print machine-readable JSON' }) as Argv<T & { json?: boolean }>;
}

export async function loadSpec(args: SpecArgs, extra: { threads?: number; gpus?: number; checkResources?: boolean } = {}): Promise<ResolvedJobSpec> {
  return loadJobSpec(args.spec, { set: args.set, ...extra });
}

export function storeExists(spec: ResolvedJobSpec): boolean {
  return existsSync(join(spec.runDir, STORE_FILE));
}

/** Opens the run's store, or returns undefined when the run has not started yet. */
export function openStore(spec: ResolvedJobSpec, options: { readOnly?: 'fallback' } = {}): RunStore | undefined {
  if (!storeExists(spec)) return undefined;
  try {
    return RunStore.open(spec.runDir);
  } catch (err) {
    // Commands that only read (status, tasks) still work on read-only media.
    const code = errnoCode((err as { cause?: unknown }).cause);
    if (options.readOnly === 'fallback' && (code === 'EROFS' || code === 'EACCES' || code === 'EPERM')) return RunStore.open(spec.runDir, { readOnly: true });
    throw err;
  }
}

export function liveOwners(store: RunStore): OwnerRecord[] {
  return store.listOwners().filter((o) => ownerAlive(o));
}

export interface RunView {
  spec: ResolvedJobSpec;
  plan: Plan;
  store?: RunStore;
  /** Planned tasks in plan order, with their records (a placeholder when not stored yet). */
  tasks: TaskRecord[];
  /** Child tasks of planned tasks. */
  children: TaskRecord[];
  owners: OwnerRecord[];
}

/** Full records are decoded only for these states when a view is light (see viewRun). */
const DETAILED: ReadonlySet<string> = new Set(['running', 'failed']);

/**
 * The planned tasks of a spec with their stored state: what status, tasks and friends show.
 *
 * `light` reads the compact state index instead of every record, and decodes full records only
 * of running and failed tasks (what status shows in detail) plus `sample` completed tasks per
 * stage (for run-time estimates); the other tasks are placeholders holding their state. On
 * 100,000 tasks this is the difference between decoding 100,000 records and a few hundred.
 */
export function viewRun(spec: ResolvedJobSpec, store: RunStore | undefined, options: { skipDamaged?: boolean; light?: { sample: number } } = {}): RunView {
  const plan = planRun(spec);
  const records = new Map<string, TaskRecord>();
  const children: TaskRecord[] = [];
  const states = new Map<string, TaskRecord['state']>();
  if (store && options.light) {
    const sampled = new Map<string, number>();
    for (const [key, entry] of store.stateEntries()) {
      const planned = plan.byId.get(key);
      const state = entry[0];
      if (!planned) {
        const parent = key.slice(0, key.lastIndexOf('/'));
        if (plan.byId.has(parent)) {
          const rec = store.getTask(key);
          if (rec) children.push(rec);
        }
        continue;
      }
      let full = DETAILED.has(state);
      if (!full && state === 'completed') {
        const n = sampled.get(planned.stage) ?? 0;
        if (n < options.light.sample) {
          sampled.set(planned.stage, n + 1);
          full = true;
        }
      }
      if (full) {
        const rec = store.getTask(key);
        if (rec) records.set(key, rec);
      } else states.set(key, state);
    }
  } else if (store) {
    // Damaged records are named (RUNNER_STORE_CORRUPT) unless the caller is about to rewrite them.
    for (const { key, value } of store.storedTasks()) {
      if (taskRecordProblem(key, value)) {
        if (options.skipDamaged) continue;
        store.getTask(key);
      }
      if (plan.byId.has(key)) records.set(key, value);
      else if (value.parent && plan.byId.has(value.parent)) children.push(value);
    }
  }
  const now = Date.now();
  const tasks = plan.tasks.map(
    (t) =>
      records.get(t.id) ?? {
        id: t.id,
        stage: t.stage,
        plugin: t.plugin,
        cell: t.cell,
        cycle: t.cycle,
        needs: t.needs,
        state: states.get(t.id) ?? ('pending' as const),
        attempts: 0,
        failures: 0,
        notes: [],
        fingerprint: t.fingerprint,
        targets: t.targets,
        pluginVersion: t.pluginVersion,
        checkpointSeq: 0,
        createdAt: now,
        updatedAt: now,
        runMs: 0,
      },
  );
  return { spec, plan, store, tasks, children, owners: store ? liveOwners(store) : [] };
}

/** Task ids (planned, and children when asked) matching any pattern; errors when one matches nothing. */
export function matchTasks(view: RunView, patterns: string[], includeChildren = true): string[] {
  const ids: string[] = [];
  const seen = new Set<string>();
  const pool = includeChildren ? [...view.tasks, ...view.children] : view.tasks;
  for (const p of patterns) {
    const m = idMatcher(p);
    const hits = pool.filter((t) => m(t.id));
    if (hits.length === 0) {
      throw taskNotFound(p, `Task ids look like ${view.tasks[0]?.id ?? 'stage/key=value/cycle=1'}; list them with \`runner tasks ${view.spec.source.specPath}\`.`);
    }
    for (const h of hits) if (!seen.has(h.id)) seen.add(h.id) && ids.push(h.id);
  }
  return ids;
}

export function print(s = ''): void {
  process.stdout.write(s + '\n');
}

export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}
