import type { ChartSpec } from '../html/page.js';
import type { PluginDefinition, ReportSection } from '../plugin/types.js';
import { createPluginDb } from '../worker/task-context.js';
import type { RunStore } from '../store/lmdb-store.js';
import { emptyCounts, type StateCounts, type TaskRecord, type TaskState } from '../store/types.js';
import { historyCharts, readHistory, taskLabel } from './curves.js';
import { headlineMetric, naturalCompare, type Headline } from './headline.js';

/** A stage as the report needs it: its plugin's definition when it could be loaded. */
export interface ReportStage {
  id: string;
  pluginName: string;
  plugin?: PluginDefinition;
  options: Readonly<Record<string, unknown>>;
}

export interface ReportSource {
  name: string;
  runDir: string;
  store: RunStore;
  stages: ReportStage[];
  /** Planned tasks in plan order (records or placeholders). */
  tasks: TaskRecord[];
  children: TaskRecord[];
}

export interface CellRow {
  cell: string;
  cycle: number;
  stages: Record<string, { id: string; state: TaskState; durationMs: number; headline?: Headline; progress?: number } | undefined>;
}

export interface StageReport {
  id: string;
  plugin: string;
  counts: StateCounts & { total: number };
  curves: ChartSpec[];
  sections: ReportSection[];
  /** Why the plugin's sections are missing, if its hook failed. */
  error?: string;
}

/** Everything a report shows, as data: rendered to HTML by `renderReport`, served as JSON by `runner serve`. */
export interface ReportModel {
  name: string;
  runDir: string;
  generatedAt: string;
  counts: StateCounts & { total: number };
  stages: StageReport[];
  cells: CellRow[];
}

export async function buildReport(src: ReportSource): Promise<ReportModel> {
  const now = Date.now();
  const counts = { total: src.tasks.length, ...emptyCounts() };
  for (const t of src.tasks) counts[t.state]++;
  const rows = new Map<string, CellRow>();
  for (const t of src.tasks) {
    const cell = Object.entries(t.cell).map(([k, v]) => `${k}=${v}`).join(' ') || '(all)';
    const key = `${cell}\u0000${t.cycle}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { cell, cycle: t.cycle, stages: {} }));
    const ran = t.runMs + (t.state === 'running' && t.startedAt ? now - t.startedAt : 0);
    const p = t.progress?.total && t.progress.step !== undefined ? Math.min(1, t.progress.step / t.progress.total) : undefined;
    row.stages[t.stage] = { id: t.id, state: t.state, durationMs: ran, headline: headlineMetric(t.result), progress: t.state === 'completed' ? 1 : p };
  }
  const stages: StageReport[] = [];
  for (const s of src.stages) {
    const tasks = src.tasks.filter((t) => t.stage === s.id);
    const ids = new Set(tasks.map((t) => t.id));
    const children = src.children.filter((c) => c.parent && ids.has(c.parent)).sort((a, b) => naturalCompare(a.id, b.id));
    const sc = { total: tasks.length, ...emptyCounts() };
    for (const t of tasks) sc[t.state]++;
    const histories = tasks.flatMap((t) => {
      const history = readHistory(t.result, src.runDir);
      return history ? [{ id: t.id, label: taskLabel(t), history }] : [];
    });
    const out: StageReport = { id: s.id, plugin: s.pluginName, counts: sc, curves: historyCharts(histories), sections: [] };
    if (s.plugin?.report) {
      try {
        out.sections = await s.plugin.report({
          run: { name: src.name, runDir: src.runDir },
          stage: { id: s.id, options: s.options },
          tasks,
          children,
          db: (name) => createPluginDb(src.store, s.pluginName, name),
        });
      } catch (err) {
        out.error = `the ${s.pluginName} plugin's report failed: ${(err as Error).message}`;
      }
    }
    stages.push(out);
  }
  const cells = [...rows.values()].sort((a, b) => a.cycle - b.cycle || naturalCompare(a.cell, b.cell));
  return { name: src.name, runDir: src.runDir, generatedAt: new Date(now).toISOString(), counts, stages, cells };
}
