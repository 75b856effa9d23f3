/**
 * `runner study <spec> [pattern]`: the trial table, best parameters and value, an optimisation
 * history sparkline, and exports (CSV, JSONL, JSON) of the studies of a run. It only reads the
 * run store (read-only LMDB transactions), so it is safe while a runner is writing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PluginCommand } from '@runner/core';
import { describeDistribution, type ParamValue } from '../space.js';
import { readStudy, type StoredStudy } from '../storage.js';
import type { TrialRecord } from '../types.js';
import { runStudies } from '../run-store.js';
import { sessionAlive } from '../session.js';

interface StudyArgs {
  spec: string;
  pattern?: string;
  set?: string[];
  format?: 'table' | 'csv' | 'jsonl' | 'json';
  json?: boolean;
  out?: string;
  limit?: number;
  sort?: 'number' | 'value';
  resultsOnly?: boolean;
}

export const studyCommand: PluginCommand<StudyArgs> = {
  command: 'study <spec> [pattern]',
  describe: 'Show HPO studies: trials, best parameters, optimisation history; export trials as CSV/JSONL',
  builder: (y) =>
    y
      .positional('spec', { type: 'string', describe: 'Path to the YAML job spec', demandOption: true })
      .positional('pattern', { type: 'string', describe: "A task id pattern or a cell, e.g. 'symbol=AAPL/horizon=5' or 'hpo/*AAPL*cycle=2'" })
      .option('set', { type: 'string', array: true, describe: 'Override a spec value: key=value (repeatable)' })
      .option('format', { type: 'string', choices: ['table', 'csv', 'jsonl', 'json'], default: 'table', describe: 'Output format' })
      .option('json', { type: 'boolean', describe: 'Same as --format json' })
      .option('out', { type: 'string', describe: 'Write to this file (atomically) instead of stdout' })
      .option('limit', { type: 'number', default: 20, describe: 'Trials in the table (0 = all)' })
      .option('sort', { type: 'string', choices: ['number', 'value'], default: 'number', describe: 'Table order: latest trials, or best first' })
      .option('results-only', {
        type: 'boolean',
        describe: 'Exports: leave out times, attempts and interruptions, so that identical runs (interrupted or not) export identical bytes',
      })
      .example('$0 study configs/hpo-example.yaml', 'Summary of every study')
      .example("$0 study configs/hpo-example.yaml 'symbol=AAPL/horizon=5' --sort value", 'One study, best trials first')
      .example("$0 study configs/hpo-example.yaml 'hpo/*' --format csv --out trials.csv", 'Export every trial')
      .example("$0 study configs/hpo-example.yaml --format csv --results-only > a.csv", 'Export to compare two runs with diff'),
  handler: async (args: StudyArgs) => {
    await showStudies(args);
  },
};

interface Found {
  taskId: string;
  taskState: string;
  name: string;
  stored?: StoredStudy;
  options: Record<string, unknown>;
}

async function showStudies(args: StudyArgs): Promise<void> {
  const core = await import('@runner/core');
  const cli = await import('@runner/core/cli');
  const { format } = cli;
  const spec = await core.loadJobSpec(args.spec, { set: args.set });
  const hpoStages = spec.stages.filter((s) => s.plugin.name === 'hpo');
  if (hpoStages.length === 0) {
    throw cli.usage(`${args.spec} has no stage with plugin: hpo`, 'runner study shows the studies of hpo stages.');
  }
  const hasStore = existsSync(join(spec.runDir, 'store.mdb'));
  let store: ReturnType<typeof core.RunStore.open> | undefined;
  if (hasStore) {
    try {
      store = core.RunStore.open(spec.runDir, { readOnly: true });
    } catch {
      store = cli.openRunStore(spec);
    }
  }
  try {
    const view = cli.viewRun(spec, store);
    const tasks = view.tasks.filter((t) => hpoStages.some((s) => s.id === t.stage));
    let matched = tasks;
    if (args.pattern) {
      const exact = cli.idMatcher(args.pattern);
      const loose = cli.idMatcher(`*${args.pattern}*`);
      matched = tasks.filter((t) => exact(t.id));
      if (matched.length === 0) matched = tasks.filter((t) => loose(t.id));
      if (matched.length === 0) {
        throw cli.taskNotFound(
          args.pattern,
          `Studies are named after their tasks, e.g. ${tasks[0]?.id ?? 'hpo/symbol=AAPL/cycle=1'}; a cell such as 'symbol=AAPL' works too.`,
          'hpo task',
        );
      }
    }
    const storage = store ? runStudies(store) : undefined;
    const found: Found[] = matched.map((t) => {
      const stage = hpoStages.find((s) => s.id === t.stage)!;
      const options = stage.options as Record<string, unknown>;
      const name = (options.studyName as string | undefined) ?? t.id;
      return { taskId: t.id, taskState: t.state, name, stored: storage ? readStudy(storage, name) : undefined, options };
    });
    const fmt = args.json ? 'json' : (args.format ?? 'table');
    const only = args.resultsOnly === true;
    let text: string;
    if (fmt === 'table') text = found.length === 1 ? studyView(found[0]!, args, format) : summaryView(found, format);
    else if (fmt === 'json') text = JSON.stringify({ studies: found.map((f) => studyJson(f, only)) }, null, 2) + '\n';
    else if (fmt === 'jsonl') text = found.flatMap((f) => (f.stored?.trials ?? []).map((t) => JSON.stringify(trialJson(f, t, only)))).join('\n') + '\n';
    else text = await toCsv(found, only);
    if (args.out) {
      const { size } = await core.writeFileAtomic(args.out, text);
      const n = found.reduce((a, f) => a + (f.stored?.trials.length ?? 0), 0);
      process.stderr.write(`wrote ${n} trial${n === 1 ? '' : 's'} of ${found.length} stud${found.length === 1 ? 'y' : 'ies'} to ${args.out} (${size} bytes)\n`);
    } else {
      process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    }
  } finally {
    await store?.close();
  }
}

type Format = typeof import('@runner/core/cli').format;

function num(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return Number(v.toPrecision(5)).toString();
}

function paramText(v: ParamValue | undefined): string {
  if (v === undefined) return '-';
  return typeof v === 'number' ? num(v) : String(v);
}

function counts(trials: readonly TrialRecord[]) {
  const c = { complete: 0, pruned: 0, failed: 0, running: 0, waiting: 0 };
  for (const t of trials) {
    if (t.state === 'COMPLETE') c.complete++;
    else if (t.state === 'PRUNED') c.pruned++;
    else if (t.state === 'FAIL') c.failed++;
    else if (t.state === 'RUNNING') c.running++;
    else c.waiting++;
  }
  return c;
}

function bestOf(s: StoredStudy): TrialRecord | undefined {
  const max = s.meta.direction === 'maximize';
  let best: TrialRecord | undefined;
  for (const t of s.trials) {
    if (t.state !== 'COMPLETE' || t.value === undefined) continue;
    if (!best || (max ? t.value > best.value! : t.value < best.value!)) best = t;
  }
  return best;
}

/** Best-so-far and per-column median value, over finished trials in number order, squeezed to `width`. */
export function historyLines(s: StoredStudy, width: number, format: Format): { best: string; values: string; n: number } {
  const max = s.meta.direction === 'maximize';
  const done = s.trials.filter((t) => t.state === 'COMPLETE' && t.value !== undefined);
  const n = done.length;
  if (n === 0) return { best: '', values: '', n };
  const cols = Math.min(width, n);
  const best: number[] = [];
  const values: number[] = [];
  let running = max ? -Infinity : Infinity;
  for (let c = 0; c < cols; c++) {
    const from = Math.floor((c * n) / cols);
    const to = Math.floor(((c + 1) * n) / cols);
    const bucket = done.slice(from, to).map((t) => t.value!);
    for (const v of bucket) running = max ? Math.max(running, v) : Math.min(running, v);
    best.push(running);
    bucket.sort((a, b) => a - b);
    values.push(bucket[Math.floor(bucket.length / 2)]!);
  }
  // Outliers (diverged trainings) would flatten the rest: clip the value line to its 5-95% range.
  const sorted = [...values].sort((a, b) => a - b);
  const lo = sorted[Math.floor(0.05 * (sorted.length - 1))]!;
  const hi = sorted[Math.ceil(0.95 * (sorted.length - 1))]!;
  return { best: format.sparkline(best), values: format.sparkline(values.map((v) => Math.min(hi, Math.max(lo, v)))), n };
}

function note(t: TrialRecord, alive: (owner?: string) => boolean): string {
  const parts: string[] = [];
  if (t.source === 'warm-start' && t.from) parts.push(`warm start: ${t.from.study} #${t.from.number}`);
  else if (t.source === 'enqueued') parts.push('enqueued');
  if (t.attempts > 1) parts.push(`attempt ${t.attempts}`);
  if (t.state === 'RUNNING' && !alive(t.owner)) parts.push('its runner is gone; retried at the next start');
  if (t.state === 'FAIL' && t.error) parts.push(t.error.length > 80 ? t.error.slice(0, 77) + '...' : t.error);
  else if (t.failures?.length && t.state !== 'FAIL') parts.push(`interrupted ${t.failures.length}x`);
  return parts.join('; ');
}

function studyView(f: Found, args: StudyArgs, format: Format): string {
  const { c } = format as unknown as { c: Record<string, (s: string) => string> };
  const bold = c?.bold ?? ((s: string) => s);
  const dim = c?.dim ?? ((s: string) => s);
  const lines: string[] = [];
  const target = (f.options.trials as number | undefined) ?? 0;
  lines.push(`${bold('study')} ${f.name}  ${dim(`(task ${f.taskState})`)}`);
  const s = f.stored;
  if (!s) {
    lines.push(dim('  not started yet: no trials in the run store'));
    return lines.join('\n');
  }
  const k = counts(s.trials);
  const sampler = f.options.sampler as { type?: string } | undefined;
  const pruner = f.options.pruner as { type?: string } | undefined;
  lines.push(
    `  ${s.meta.direction} ${(f.options.objective as { metric?: string })?.metric ?? 'value'} · sampler ${sampler?.type ?? s.meta.sampler.type} (seed ${s.meta.sampler.seed}) · pruner ${pruner?.type ?? 'none'}` +
      (s.meta.key !== s.meta.name ? ` · generation ${s.meta.generation} (${s.meta.key})` : ''),
  );
  lines.push(`  trials    ${k.complete + k.pruned}/${target} finished: ${k.complete} complete, ${k.pruned} pruned, ${k.failed} failed, ${k.running} running, ${k.waiting} waiting`);
  if (s.meta.warmStart) lines.push(`  warm start from ${s.meta.warmStart.from}: ${s.meta.warmStart.enqueued.length} trials first${s.meta.warmStart.historyUpTo !== undefined ? ', its trials seed the sampler' : ''}`);
  if (s.meta.supersededBy) lines.push(`  superseded by ${s.meta.supersededBy} after a search-space change`);
  const best = bestOf(s);
  if (best) {
    lines.push(`  best      ${bold(num(best.value))} (trial ${best.number})`);
    lines.push(`  params    ${Object.entries(best.params).map(([n, v]) => `${n}=${paramText(v)}`).join('  ')}`);
  } else {
    lines.push(dim('  best      - (no complete trial yet)'));
  }
  const h = historyLines(s, 60, format);
  if (h.n > 0) {
    lines.push(`  history   ${h.best}  ${dim('best so far')}`);
    lines.push(`            ${h.values}  ${dim(`value (${h.n} complete trials${h.n > 60 ? `, ${Math.ceil(h.n / 60)} per column` : ''})`)}`);
  }
  if (s.meta.space) lines.push(dim(`  space     ${Object.entries(s.meta.space).map(([n, d]) => `${n}: ${describeDistribution(d)}`).join('; ')}`));
  const sessions = new Map(s.sessions.map((x) => [x.id, x]));
  const alive = (owner?: string) => sessionAlive(sessions.get(owner ?? ''));
  let rows = [...s.trials];
  const max = s.meta.direction === 'maximize';
  if (args.sort === 'value') {
    const rank = (t: TrialRecord) => (t.state === 'COMPLETE' ? 0 : t.state === 'PRUNED' ? 1 : 2);
    rows.sort((a, b) => rank(a) - rank(b) || (max ? (b.value ?? -Infinity) - (a.value ?? -Infinity) : (a.value ?? Infinity) - (b.value ?? Infinity)) || a.number - b.number);
  }
  const limit = args.limit ?? 20;
  const shown = limit > 0 ? (args.sort === 'value' ? rows.slice(0, limit) : rows.slice(-limit)) : rows;
  const names = Object.keys(s.meta.dists);
  const now = Date.now();
  lines.push('');
  lines.push(
    format.table(
      shown.map((t) => [
        String(t.number),
        format.stateColor(stateOf(t.state), t.state),
        num(t.value),
        ...names.map((n) => paramText(t.params[n])),
        t.steps?.length ? String(Math.max(...t.steps)) : '-',
        t.startedAt ? format.formatDuration((t.finishedAt ?? (t.state === 'RUNNING' ? now : t.startedAt)) - t.startedAt) : '-',
        note(t, alive),
      ]),
      ['#', 'state', 'value', ...names, 'step', 'time', 'note'],
    ),
  );
  if (shown.length < rows.length) {
    lines.push(dim(`(${args.sort === 'value' ? 'best' : 'latest'} ${shown.length} of ${rows.length} trials; --limit 0 shows all, --sort value ranks them, --format csv exports them)`));
  }
  return lines.join('\n');
}

function stateOf(s: TrialRecord['state']): string {
  return s === 'COMPLETE' ? 'completed' : s === 'RUNNING' ? 'running' : s === 'FAIL' ? 'failed' : s === 'PRUNED' ? 'cancelled' : 'pending';
}

function summaryView(found: Found[], format: Format): string {
  const rows = found.map((f) => {
    const s = f.stored;
    const target = (f.options.trials as number | undefined) ?? 0;
    if (!s) return [f.name, f.taskState, `0/${target}`, '-', '-', ''];
    const k = counts(s.trials);
    const best = bestOf(s);
    return [
      f.name,
      f.taskState,
      `${k.complete + k.pruned}/${target}`,
      `${k.pruned}/${k.failed}/${k.running}`,
      best ? `${num(best.value)} (#${best.number})` : '-',
      historyLines(s, 24, format).best,
    ];
  });
  return format.table(rows, ['study', 'task', 'finished', 'pruned/failed/running', 'best', 'best so far']) + '\n' + `(${found.length} studies; name one, e.g. \`runner study <spec> '${found[0]?.name ?? ''}'\`, for its trials)`;
}

/** A trial for export; `resultsOnly` keeps what the run computed and drops when and how often it ran. */
function trialJson(f: Found, t: TrialRecord, resultsOnly = false): Record<string, unknown> {
  const computed = {
    study: f.name,
    number: t.number,
    state: t.state,
    value: t.value ?? null,
    params: t.params,
    intermediate: (t.steps ?? []).map((s, i) => [s, t.values![i]]),
  };
  if (resultsOnly) return { ...computed, source: t.source, ...(t.from ? { from: t.from } : {}), ...(t.error ? { error: t.error } : {}) };
  return {
    ...computed,
    attempts: t.attempts,
    source: t.source,
    ...(t.from ? { from: t.from } : {}),
    startedAt: t.startedAt ? new Date(t.startedAt).toISOString() : null,
    finishedAt: t.finishedAt ? new Date(t.finishedAt).toISOString() : null,
    durationMs: t.startedAt && t.finishedAt ? t.finishedAt - t.startedAt : null,
    ...(t.error ? { error: t.error } : {}),
    ...(t.failures?.length ? { failures: t.failures.map((x) => ({ at: new Date(x.at).toISOString(), reason: x.reason })) } : {}),
  };
}

function studyJson(f: Found, resultsOnly = false): Record<string, unknown> {
  const s = f.stored;
  const best = s ? bestOf(s) : undefined;
  return {
    name: f.name,
    task: f.taskId,
    taskState: f.taskState,
    target: f.options.trials,
    ...(s
      ? {
          key: s.meta.key,
          direction: s.meta.direction,
          space: s.meta.space ?? s.meta.dists,
          sampler: s.meta.sampler,
          warmStart: s.meta.warmStart ?? null,
          counts: counts(s.trials),
          best: best ? { number: best.number, value: best.value, params: best.params } : null,
          trials: s.trials.map((t) => trialJson(f, t, resultsOnly)),
        }
      : { trials: [] }),
  };
}

async function toCsv(found: Found[], resultsOnly = false): Promise<string> {
  const { stringify } = await import('csv-stringify/sync');
  const names = [...new Set(found.flatMap((f) => Object.keys(f.stored?.meta.dists ?? {})))];
  const rows = found.flatMap((f) =>
    (f.stored?.trials ?? []).map((t) => {
      const j = trialJson(f, t);
      return [
        f.name,
        t.number,
        t.state,
        t.value ?? '',
        ...names.map((n) => (t.params[n] === undefined ? '' : t.params[n])),
        t.steps?.length ? Math.max(...t.steps) : '',
        ...(resultsOnly ? [] : [t.attempts]),
        t.source,
        ...(resultsOnly ? [] : [j.startedAt ?? '', j.finishedAt ?? '', j.durationMs ?? '']),
        t.error ?? '',
      ];
    }),
  );
  const columns = ['study', 'number', 'state', 'value', ...names.map((n) => `params_${n}`), 'last_step', ...(resultsOnly ? [] : ['attempts']), 'source', ...(resultsOnly ? [] : ['started_at', 'finished_at', 'duration_ms']), 'error'];
  return stringify(rows, { header: true, columns, cast: { boolean: (b) => String(b) } });
}
