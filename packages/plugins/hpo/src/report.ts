/**
 * The hpo stage's sections of `runner report` and the dashboard: per study the optimisation
 * history, the intermediate values of complete and pruned trials, parameter importances
 * (PED-ANOVA, see importance.ts) and the trial table. Reads the studies read-only.
 */
import type { ReportChart, ReportInput, ReportSection, ReportTask } from '@runner/core';
import { pedAnovaImportances } from './importance.js';
import type { HpoOptions, HpoResult } from './plugin/run.js';
import { readStudy, type StoredStudy } from './storage.js';
import type { StudyStorage, TrialRecord } from './types.js';

const STATE_COLOR: Record<string, string> = { COMPLETE: '#0969da', PRUNED: '#bc4c00', FAIL: '#cf222e', RUNNING: '#8250df', WAITING: '#57606a' };
/** Intermediate-value curves drawn per study: the best trials and the latest, so the chart stays readable. */
const MAX_CURVES = 40;

export function hpoReport(input: ReportInput<HpoOptions>): ReportSection[] {
  const storage = input.db('studies') as unknown as StudyStorage;
  const out: ReportSection[] = [];
  for (const task of input.tasks) {
    const result = task.result as HpoResult | undefined;
    const name = result?.study ?? input.stage.options.studyName ?? task.id;
    let study: StoredStudy | undefined;
    try {
      study = readStudy(storage, name, result?.studyKey ? { key: result.studyKey } : {});
    } catch {
      study = undefined;
    }
    if (!study || study.trials.length === 0) continue;
    out.push(studySection(task, study));
  }
  return out;
}

function studySection(task: ReportTask, s: StoredStudy): ReportSection {
  const { meta, trials } = s;
  const dir = meta.direction;
  const better = (a: number, b: number) => (dir === 'minimize' ? a < b : a > b);
  const finished = trials.filter((t) => t.state === 'COMPLETE' && typeof t.value === 'number');
  const best = finished.reduce<TrialRecord | undefined>((b, t) => (!b || better(t.value!, b.value!) ? t : b), undefined);
  const counts: Record<string, number> = {};
  for (const t of trials) counts[t.state] = (counts[t.state] ?? 0) + 1;
  const charts: ReportChart[] = [history(trials, better), intermediate(trials, dir)].filter((c): c is ReportChart => !!c);
  const imp = pedAnovaImportances(trials, meta.dists, dir);
  const params = Object.keys(meta.dists);
  const tables = [];
  if (imp.length > 0) {
    tables.push({
      title: `Parameter importances (PED-ANOVA over ${finished.length} complete trials, top 10% vs all)`,
      columns: ['parameter', 'importance', ''],
      numeric: [1],
      rows: imp.map((i) => [i.param, Math.round(i.importance * 1000) / 1000, '█'.repeat(Math.round(i.importance * 40))]),
    });
  }
  tables.push({
    title: 'Trials',
    columns: ['#', 'state', 'value', ...params, 'steps', 'duration', 'source'],
    numeric: [0, 2],
    rows: trials.map((t) => [
      t.number,
      t.state,
      t.value ?? null,
      ...params.map((p) => (t.params[p] === undefined ? null : typeof t.params[p] === 'number' ? (t.params[p] as number) : String(t.params[p]))),
      t.steps?.length ?? 0,
      t.startedAt && t.finishedAt ? `${((t.finishedAt - t.startedAt) / 1000).toFixed(1)} s` : '',
      t.source,
    ]),
  });
  const summary = Object.entries(counts).map(([k, v]) => `${v} ${k.toLowerCase()}`).join(', ');
  return {
    title: `Study ${meta.name}`,
    taskId: task.id,
    note:
      `${dir}; ${trials.length} trials (${summary})` +
      (best ? `; best value ${fmt(best.value!)} at trial ${best.number}: ${Object.entries(best.params).map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : String(v)}`).join(', ')}` : ''),
    charts,
    tables,
  };
}

/** Values of complete trials by trial number, the best so far, and pruned trials' last values as marks. */
function history(trials: TrialRecord[], better: (a: number, b: number) => boolean): ReportChart | undefined {
  const xs: number[] = [];
  const values: Array<number | null> = [];
  const bestSoFar: Array<number | null> = [];
  const marks: ReportChart['marks'] = [];
  let best: number | undefined;
  for (const t of [...trials].sort((a, b) => a.number - b.number)) {
    xs.push(t.number);
    const v = t.state === 'COMPLETE' && typeof t.value === 'number' ? t.value : null;
    values.push(v);
    if (v !== null && (best === undefined || better(v, best))) best = v;
    bestSoFar.push(best ?? null);
    if (t.state === 'PRUNED' && typeof t.value === 'number') marks.push({ x: t.number, y: t.value, color: STATE_COLOR.PRUNED! });
  }
  if (values.every((v) => v === null)) return undefined;
  return {
    title: 'Optimisation history',
    xLabel: 'trial',
    yLabel: 'objective',
    series: [
      { label: 'complete trial', line: false, color: STATE_COLOR.COMPLETE },
      { label: 'best so far', color: '#1a7f37', width: 2 },
    ],
    data: [xs, values, bestSoFar],
    marks,
  };
}

/** Intermediate values (reported steps) of complete and pruned trials; pruned ones dashed. */
function intermediate(trials: TrialRecord[], dir: 'minimize' | 'maximize'): ReportChart | undefined {
  const withSteps = trials.filter((t) => t.steps && t.values && t.steps.length > 0 && (t.state === 'COMPLETE' || t.state === 'PRUNED'));
  if (withSteps.length === 0) return undefined;
  const ranked = [...withSteps].sort((a, b) => {
    const av = a.values![a.values!.length - 1]!;
    const bv = b.values![b.values!.length - 1]!;
    return dir === 'minimize' ? av - bv : bv - av;
  });
  const keep = new Set([...ranked.slice(0, MAX_CURVES / 2), ...[...withSteps].sort((a, b) => b.number - a.number).slice(0, MAX_CURVES / 2)]);
  const shown = withSteps.filter((t) => keep.has(t));
  const xs = [...new Set(shown.flatMap((t) => t.steps!))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const data: Array<Array<number | null>> = [xs];
  const series: ReportChart['series'] = [];
  for (const t of shown) {
    const ys: Array<number | null> = new Array(xs.length).fill(null);
    t.steps!.forEach((st, i) => (ys[at.get(st)!] = t.values![i] ?? null));
    data.push(ys);
    series.push({ label: `#${t.number} ${t.state.toLowerCase()}`, color: STATE_COLOR[t.state], dash: t.state === 'PRUNED' ? [4, 3] : undefined, width: 1 });
  }
  return {
    title: `Intermediate values${shown.length < withSteps.length ? ` (${shown.length} of ${withSteps.length} trials: the best and the latest)` : ''}; complete blue, pruned orange dashed`,
    xLabel: 'step',
    yLabel: 'intermediate value',
    series,
    data,
    // A legend of dozens of trials says little: blue complete, orange dashed pruned (see the note).
    legend: series.length <= 8,
  };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : Number(v.toPrecision(5)).toString();
}
