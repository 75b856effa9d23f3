import { cp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { ResolvedJobSpec } from '../config/types.js';
import { shardsIncomplete } from '../errors.js';
import { artifactDirFor, CHECKPOINTS_SUBDIR } from '../util/run-paths.js';
import { planRun, type Plan } from '../run/plan.js';
import { RunStore } from '../store/lmdb-store.js';
import type { TaskRecord } from '../store/types.js';
import { splitPlan } from './assign.js';
import { agreedLayout, type ShardSource } from './sources.js';

export interface GatherImport {
  plan: Plan;
  /** Tasks left to the gather step (fan-in stages and what follows them). */
  gatherIds: string[];
  /** Shard results written into the run's store now (new or changed since the last gather). */
  adopted: string[];
  /** Gathered tasks that were completed but rerun because a shard's result changed. */
  reopened: string[];
  shards: number;
}

/**
 * Brings every shard's completed tasks into the run's own store (`runs/<name>`) with their
 * artifacts, so that the fan-in stages see all cells as upstream. Refuses while a shard is missing
 * or has unfinished tasks: a fan-in over part of the cells would be a wrong result.
 */
export async function importShards(spec: ResolvedJobSpec, sources: ShardSource[]): Promise<GatherImport> {
  const layout = agreedLayout(sources);
  if (!layout) {
    throw shardsIncomplete(`no shard of ${spec.name} found`, `Start the shards first (runner start ${spec.source.specPath} --shard i/N), or name their directories with --shards.`);
  }
  const plan = planRun(spec);
  const split = splitPlan(spec, plan, layout.key, layout.count);
  const missing = Array.from({ length: layout.count }, (_, i) => i).filter((i) => !sources.some((s) => s.info.index === i));
  const lagging: string[] = [];
  const records: { rec: TaskRecord; src: ShardSource }[] = [];
  const taken = new Set<string>();
  let failed = 0;
  for (const src of sources) {
    const ids = split.shards[src.info.index]!;
    const store = RunStore.open(src.runDir, { readOnly: true });
    try {
      let notDone = 0;
      let failedHere = 0;
      for (const id of ids) {
        const rec = store.getTask(id);
        const planned = plan.byId.get(id)!;
        if (!rec || rec.state !== 'completed' || rec.fingerprint !== planned.fingerprint || rec.targets !== planned.targets) {
          notDone++;
          if (rec?.state === 'failed' || rec?.state === 'cancelled') failedHere++;
          continue;
        }
        // An upstream task several shards ran: the first shard's copy (they are the same work).
        if (taken.has(id)) continue;
        taken.add(id);
        records.push({ rec, src });
      }
      if (notDone > 0) lagging.push(`shard ${src.info.index}: ${notDone} of ${ids.size} tasks not completed${failedHere ? ` (${failedHere} failed or cancelled)` : ''}`);
      failed += failedHere;
    } finally {
      await store.close();
    }
  }
  if (missing.length > 0 || lagging.length > 0) {
    const parts = [...(missing.length > 0 ? [`not found: shard${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of ${layout.count}`] : []), ...lagging];
    throw shardsIncomplete(
      `${spec.name}: the shards are not finished (${parts.join('; ')})`,
      failed > 0
        ? `Failed or cancelled tasks stay so until resumed: see \`runner status ${spec.source.specPath} --shards\`, resume them in their shard's store and run that shard again, then gather.`
        : `See \`runner status ${spec.source.specPath} --shards\`; run the lagging shards to the end, then gather again.`,
      { missing, lagging, failed },
    );
  }
  const store = RunStore.open(spec.runDir);
  let result: { adopted: string[]; reopened: string[] };
  try {
    const bySource = new Map<ShardSource, TaskRecord[]>();
    for (const { rec, src } of records) bySource.set(src, [...(bySource.get(src) ?? []), rec]);
    const adopted: string[] = [];
    const reopened: string[] = [];
    for (const [src, recs] of bySource) {
      const from = src.info.runDir;
      if (from && from !== spec.runDir) for (const rec of recs) rec.result = rebase(rec.result, from, spec.runDir);
      const r = await store.adoptTasks(recs, plan.dependents, `gathered from shard ${src.info.index}/${src.info.count} (${basename(src.path)})`);
      adopted.push(...r.adopted);
      reopened.push(...r.reopened);
      const adoptedSet = new Set(r.adopted);
      for (const rec of recs) {
        if (!adoptedSet.has(rec.id)) continue;
        const from = artifactDirFor(src.runDir, rec.id);
        const to = artifactDirFor(spec.runDir, rec.id);
        await rm(to, { recursive: true, force: true });
        if (existsSync(from)) await cp(from, to, { recursive: true, filter: (p) => basename(p) !== CHECKPOINTS_SUBDIR });
      }
    }
    result = { adopted, reopened };
  } finally {
    await store.close();
  }
  return { plan, gatherIds: [...split.gather], ...result, shards: layout.count };
}

/**
 * Results name files in the shard's run directory (a model's path); after gathering, the copies in
 * the run's own directory are the ones to use.
 */
export function rebase(v: unknown, from: string, to: string): unknown {
  if (typeof v === 'string') return v === from || v.startsWith(from + '/') ? to + v.slice(from.length) : v;
  if (Array.isArray(v)) return v.map((x) => rebase(x, from, to));
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = rebase(x, from, to);
    return out;
  }
  return v;
}
