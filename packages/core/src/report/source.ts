import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { viewRun } from '../cli/shared.js';
import { loadJobSpec } from '../config/load.js';
import type { ResolvedJobSpec } from '../config/types.js';
import { loadPluginModule, resolvePluginEntry } from '../plugin/load.js';
import type { RunStore } from '../store/lmdb-store.js';
import type { TaskRecord } from '../store/types.js';
import type { ReportSource, ReportStage } from './build.js';

/** The report's input from a loaded spec: planned tasks in plan order, stages with their plugins. */
export function sourceFromSpec(spec: ResolvedJobSpec, store: RunStore): ReportSource {
  const view = viewRun(spec, store);
  return {
    name: spec.name,
    runDir: spec.runDir,
    store,
    stages: spec.stages.map((s) => ({ id: s.id, pluginName: s.plugin.name, plugin: s.plugin.definition, options: s.options })),
    tasks: view.tasks,
    children: view.children,
  };
}

/**
 * The report's input from a store alone (`runner serve`): the spec it was started with when it
 * still loads, else the stored tasks with their plugins resolved by name.
 */
export async function sourceFromStore(runDir: string, store: RunStore): Promise<ReportSource> {
  const meta = store.getMeta();
  if (meta?.specPath && existsSync(meta.specPath)) {
    try {
      const spec = await loadJobSpec(meta.specPath, { cwd: dirname(meta.specPath) });
      if (spec.runDir === runDir) return sourceFromSpec(spec, store);
    } catch {
      // The spec changed or moved: fall back to what the store holds.
    }
  }
  const tasks: TaskRecord[] = [];
  const children: TaskRecord[] = [];
  for (const { value } of store.storedTasks()) (value.parent ? children : tasks).push(value);
  const stages: ReportStage[] = [];
  const seen = new Set<string>();
  for (const t of tasks) {
    if (seen.has(t.stage)) continue;
    seen.add(t.stage);
    let plugin: ReportStage['plugin'];
    const r = resolvePluginEntry(t.plugin, runDir, [runDir, process.cwd()]);
    if (r) plugin = await loadPluginModule(r.entry, r.source).then((p) => p.definition).catch(() => undefined);
    stages.push({ id: t.stage, pluginName: t.plugin, plugin, options: {} });
  }
  return { name: meta?.name ?? runDir, runDir, store, stages, tasks, children };
}
