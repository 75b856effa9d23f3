/** The upstream results a task sees (`ctx.upstream`): the completed tasks it needs, by stage. */
import type { ResolvedStage } from '../../config/types.js';
import type { UpstreamTask } from '../../plugin/types.js';
import type { TaskRecord } from '../../store/types.js';
import { artifactDirFor } from '../../util/run-paths.js';
import type { Plan, PlannedTask } from '../plan.js';

/** Collects the completed tasks of each need (a list for fan-in, else the one task). */
export function upstreamResults(
  needs: PlannedTask['upstream'],
  getTask: (id: string) => TaskRecord | undefined,
  runDir: string,
): Record<string, UpstreamTask | UpstreamTask[]> {
  const out: Record<string, UpstreamTask | UpstreamTask[]> = {};
  for (const u of needs) {
    const tasks: UpstreamTask[] = [];
    for (const id of u.ids) {
      const r = getTask(id);
      if (r?.state === 'completed') tasks.push({ id, stage: r.stage, cell: r.cell, result: r.result, artifactDir: artifactDirFor(runDir, id) });
    }
    if (u.fanIn) out[u.stage] = tasks;
    else if (tasks[0]) out[u.stage] = tasks[0];
  }
  return out;
}

/** A child running another stage's plugin sees that stage's upstream for its parent's cell. */
export function upstreamOfStage(plan: Pick<Plan, 'tasks'>, stage: ResolvedStage | undefined, parent: PlannedTask): PlannedTask['upstream'] {
  if (!stage) return parent.upstream;
  const out: PlannedTask['upstream'] = [];
  for (const need of stage.needs) {
    if (need === parent.stage) continue;
    const same = parent.upstream.find((u) => u.stage === need);
    if (same) {
      out.push(same);
      continue;
    }
    const sibling = plan.tasks.find(
      (t) => t.stage === stage.id && t.cycle === parent.cycle && Object.entries(t.cell).every(([k, v]) => parent.cell[k] === undefined || parent.cell[k] === v),
    );
    const u = sibling?.upstream.find((x) => x.stage === need);
    if (u) out.push(u);
  }
  return out;
}
