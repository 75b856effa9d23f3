import type { ResolvedJobSpec } from '../config/types.js';
import { statusJson, taskJson } from '../cli/commands/status.js';
import { viewRun, type RunView } from '../cli/shared.js';
import { planRun, type Plan } from '../run/plan.js';
import { RunStore } from '../store/lmdb-store.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { STORE_FILE } from '../store/lmdb-store.js';
import { emptyCounts, TASK_STATES } from '../store/types.js';
import { shardDirName, shardPlan, splitPlan } from './assign.js';
import { agreedLayout, type ShardSource } from './sources.js';

type Counts = ReturnType<typeof emptyCounts> & { total: number; blocked: number };

/** The view of one shard: its own tasks only, read from its store. */
function shardView(spec: ResolvedJobSpec, full: RunView, plan: Plan): RunView {
  return {
    ...full,
    plan,
    tasks: full.tasks.filter((t) => plan.byId.has(t.id)),
    children: full.children.filter((c) => c.parent !== undefined && plan.byId.has(c.parent)),
    spec,
  };
}

/**
 * `runner status --shards`: every shard's counts, progress, ETA and failures, and their sum. A
 * shard not found counts as not started (all its tasks pending); the ETA is the slowest shard's,
 * since shards run side by side.
 */
export function shardsStatusJson(spec: ResolvedJobSpec, sources: ShardSource[]) {
  const layout = agreedLayout(sources);
  const full = planRun(spec);
  const total: Counts = { total: 0, ...emptyCounts(), blocked: 0 };
  const failed: (ReturnType<typeof taskJson> & { shard: number })[] = [];
  const shards: Record<string, unknown>[] = [];
  let progressSum = 0;
  let eta: number | null = null;
  let gather: Record<string, unknown> | null = null;
  if (layout) {
    const split = splitPlan(spec, full, layout.key, layout.count);
    for (let i = 0; i < layout.count; i++) {
      const plan = shardPlan(full, split.shards[i]!, { index: i, count: layout.count, key: layout.key });
      const src = sources.find((s) => s.info.index === i);
      const sspec = Object.freeze({ ...spec, runDir: src?.runDir ?? join(spec.runDir, shardDirName(i, layout.count)) });
      const store = src ? RunStore.open(src.runDir, { readOnly: true }) : undefined;
      try {
        const view = shardView(sspec, viewRun(sspec, store), plan);
        const s = statusJson(view);
        for (const st of TASK_STATES) total[st] += s.tasks[st];
        total.total += s.tasks.total;
        total.blocked += s.tasks.blocked;
        progressSum += s.progress * s.tasks.total;
        const left = s.tasks.pending + s.tasks.running - s.tasks.blocked;
        if (s.eta && left > 0) eta = Math.max(eta ?? 0, s.eta.seconds);
        for (const f of s.failed) failed.push({ shard: i, ...f });
        shards.push({
          index: i,
          path: src?.path ?? null,
          started: !!src,
          snapshot: src?.snapshot ? { seq: src.snapshot.seq, createdAt: new Date(src.snapshot.createdAt).toISOString() } : null,
          tasks: s.tasks,
          progress: s.progress,
          eta: s.eta,
          runners: s.runners.length,
          running: s.running.map((t) => t.id),
          failed: s.failed.map((t) => t.id),
        });
      } finally {
        void store?.close();
      }
    }
    const gatherIds = split.gather;
    const counts: Counts = { total: gatherIds.size, ...emptyCounts(), blocked: 0 };
    const started = existsSync(join(spec.runDir, STORE_FILE));
    if (started) {
      const store = RunStore.open(spec.runDir, { readOnly: true });
      try {
        for (const id of gatherIds) counts[store.getTask(id)?.state ?? 'pending']++;
      } finally {
        void store.close();
      }
    } else counts.pending = gatherIds.size;
    gather = { started, stages: [...split.roles].filter(([, r]) => r === 'gather').map(([id]) => id), tasks: counts };
  }
  return {
    name: spec.name,
    shards: layout?.count ?? 0,
    key: layout?.key ?? [],
    found: sources.length,
    missing: layout ? Array.from({ length: layout.count }, (_, i) => i).filter((i) => !sources.some((s) => s.info.index === i)) : [],
    tasks: total,
    progress: total.total > 0 ? progressSum / total.total : 0,
    eta: eta === null ? null : { seconds: eta },
    perShard: shards,
    failed,
    gather,
  };
}

export type ShardsStatus = ReturnType<typeof shardsStatusJson>;
