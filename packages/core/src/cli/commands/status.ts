import type { CommandModule } from 'yargs';
import { emptyCounts, TASK_STATES, type TaskRecord } from '../../store/types.js';
import { bar, c, formatAge, formatDuration, pct, resultHeadline, stateColor, table } from '../format.js';
import { taskErrorJson } from '../task-error.js';
import { printShardsStatus } from './status-shards.js';
import { invocation } from '../invocation.js';
import { progressText } from '../progress-text.js';
import { loadSpec, openStore, print, printJson, viewRun, withJson, withSpec, type RunView, type SpecArgs } from '../shared.js';

interface StatusArgs extends SpecArgs {
  watch?: boolean;
  interval?: number;
  shards?: string[];
  snapshotDir?: string;
}

/** Completed tasks per stage whose run time feeds the ETA (status reads no more records). */
const ETA_SAMPLE = 200;

/** The machine-readable status; its shape is stable (see docs/cli.md). */
export function statusJson(view: RunView) {
  const counts = emptyCounts();
  for (const t of view.tasks) counts[t.state]++;
  const blockedSet = new Set(blockedIds(view));
  const blocked = blockedSet.size;
  const stages: Record<string, Record<string, number>> = {};
  for (const s of view.spec.stages) stages[s.id] = { total: 0, ...emptyCounts() };
  for (const t of view.tasks) {
    const st = stages[t.stage]!;
    st.total!++;
    st[t.state]!++;
  }
  const childCounts = emptyCounts();
  for (const t of view.children) childCounts[t.state]++;
  return {
    name: view.spec.name,
    runDir: view.spec.runDir,
    eta: estimate(view, blockedSet),
    spec: view.spec.source.specPath,
    started: !!view.store,
    runners: view.owners.map((o) => ({ id: o.id, pid: o.pid, host: o.host, startedAt: new Date(o.startedAt).toISOString(), heartbeatAt: new Date(o.heartbeatAt).toISOString() })),
    tasks: { total: view.tasks.length, ...counts, blocked },
    progress: overallFraction(view.tasks),
    stages,
    children: { total: view.children.length, ...childCounts },
    running: view.tasks.filter((t) => t.state === 'running').map(taskJson),
    failed: view.tasks.filter((t) => t.state === 'failed').map(taskJson),
  };
}

/**
 * Work left divided by the threads working on it: each stage's mean run time (from its completed
 * tasks, else from the progress of running ones) for pending tasks, and the unfinished fraction
 * of running ones. Null until there is something to estimate from.
 */
function estimate(view: RunView, blocked: Set<string>): { seconds: number; threads: number } | null {
  const per = new Map<string, { sum: number; n: number }>();
  const now = Date.now();
  for (const t of view.tasks) {
    let ms: number | undefined;
    // A light view holds full records of a sample of completed tasks; placeholders have runMs 0.
    if (t.state === 'completed' && t.runMs > 0) ms = t.runMs;
    else if (t.state === 'running' && t.startedAt && fractionOf(t) > 0.05) ms = (now - t.startedAt) / fractionOf(t);
    if (ms === undefined) continue;
    const e = per.get(t.stage) ?? { sum: 0, n: 0 };
    e.sum += ms;
    e.n++;
    per.set(t.stage, e);
  }
  const all = [...per.values()].reduce((a, e) => ({ sum: a.sum + e.sum, n: a.n + e.n }), { sum: 0, n: 0 });
  if (all.n === 0) return null;
  let left = 0;
  for (const t of view.tasks) {
    if (t.state !== 'pending' && t.state !== 'running') continue;
    if (blocked.has(t.id)) continue;
    // A stage with nothing measured yet borrows the mean of the others.
    const e = per.get(t.stage) ?? all;
    left += (e.sum / e.n) * (t.state === 'running' ? 1 - fractionOf(t) : 1);
  }
  const threads = view.owners.reduce((a, o) => a + (o.threads ?? 1), 0) || view.spec.pool.threads;
  return { seconds: Math.round(left / threads / 1000), threads };
}

export function taskJson(t: TaskRecord) {
  return {
    id: t.id,
    stage: t.stage,
    plugin: t.plugin,
    cell: t.cell,
    cycle: t.cycle,
    state: t.state,
    attempts: t.attempts,
    failures: t.failures,
    progress: t.progress ? { step: t.progress.step ?? null, total: t.progress.total ?? null, fraction: fractionOf(t), message: t.progress.message ?? null, metrics: t.progress.metrics ?? null } : { step: null, total: null, fraction: t.state === 'completed' ? 1 : 0, message: null, metrics: null },
    lastCheckpoint: t.lastCheckpoint ? { ...t.lastCheckpoint, time: new Date(t.lastCheckpoint.time).toISOString() } : null,
    result: t.result ?? null,
    error: t.error ? taskErrorJson(t.error) : null,
    owner: t.owner ?? null,
    notes: t.notes,
    parent: t.parent ?? null,
    runMs: t.runMs,
    startedAt: t.startedAt ? new Date(t.startedAt).toISOString() : null,
    endedAt: t.endedAt ? new Date(t.endedAt).toISOString() : null,
  };
}

function fractionOf(t: TaskRecord): number {
  if (t.state === 'completed') return 1;
  const p = t.progress;
  return p?.total && p.step !== undefined ? Math.min(1, p.step / p.total) : 0;
}

function overallFraction(tasks: TaskRecord[]): number {
  if (tasks.length === 0) return 1;
  return tasks.reduce((a, t) => a + fractionOf(t), 0) / tasks.length;
}

/** Pending tasks that need something failed or cancelled (directly or further up). */
export function blockedIds(view: RunView): string[] {
  // Most runs have no pending task with needs: skip indexing 100k states for nothing.
  if (!view.tasks.some((t) => t.state === 'pending' && t.needs.length > 0)) return [];
  const state = new Map<string, string>();
  for (const t of view.tasks) state.set(t.id, t.state);
  const memo = new Map<string, boolean>();
  const blocked = (id: string): boolean => {
    const m = memo.get(id);
    if (m !== undefined) return m;
    memo.set(id, false);
    let b = false;
    for (const n of view.plan.byId.get(id)!.needs) {
      const s = state.get(n);
      if (s === 'failed' || s === 'cancelled' || (s === 'pending' && blocked(n))) {
        b = true;
        break;
      }
    }
    memo.set(id, b);
    return b;
  };
  const out: string[] = [];
  for (const t of view.tasks) if (t.state === 'pending' && t.needs.length > 0 && blocked(t.id)) out.push(t.id);
  return out;
}

function render(view: RunView): void {
  const s = statusJson(view);
  const now = Date.now();
  print(`${c.bold(s.name)}  ${c.dim(s.runDir)}`);
  const cmd = invocation();
  const orphaned = s.started && view.owners.length === 0 && s.tasks.running > 0;
  if (!s.started) print(c.dim(`not started yet: ${cmd} start ${view.spec.source.specPath}`));
  else if (orphaned) print(c.yellow(`interrupted (runner gone); ${s.tasks.running} task${s.tasks.running === 1 ? '' : 's'} left running resume${s.tasks.running === 1 ? 's' : ''} on the next start: ${cmd} start ${view.spec.source.specPath}`));
  else if (view.owners.length === 0) print(c.dim('no runner is working on it now'));
  for (const o of view.owners) print(`runner pid ${o.pid} on ${o.host}: running for ${formatDuration(now - o.startedAt)}, heartbeat ${formatAge(o.heartbeatAt, now)}`);
  const k = s.tasks;
  print(
    `${bar(s.progress)} ${Math.floor(s.progress * 100)}%  ${k.total} tasks: ${stateColor('completed', `${k.completed} completed`)}, ${orphaned ? c.yellow(`${k.running} interrupted`) : stateColor('running', `${k.running} running`)}, ${k.pending} pending${k.blocked ? ` (${k.blocked} blocked)` : ''}, ${stateColor('failed', `${k.failed} failed`)}, ${stateColor('cancelled', `${k.cancelled} cancelled`)}`,
  );
  const runnable = s.tasks.pending - s.tasks.blocked + s.tasks.running;
  if (runnable > 0 && view.owners.length > 0) {
    if (!s.eta) print(c.dim('ETA unknown: no task has finished or made measurable progress yet'));
    else print(c.dim(`ETA ~${formatDuration(s.eta.seconds * 1000)} at ${s.eta.threads} thread${s.eta.threads === 1 ? '' : 's'}`));
  } else if (s.tasks.pending > 0) print(c.dim(`nothing left that can run: ${s.tasks.pending} pending task${s.tasks.pending === 1 ? ' is' : 's are'} blocked by failed or cancelled work`));
  if (s.children.total > 0) print(c.dim(`child tasks: ${s.children.total} (${s.children.completed} completed, ${s.children.running} running, ${s.children.failed} failed, ${s.children.cancelled} cancelled)`));
  const trials = trialCounts(view);
  if (trials) print(`trials: ${trials.complete} complete, ${c.yellow(`${trials.pruned} pruned`)}, ${trials.failed} failed${trials.total ? ` of ${trials.total}` : ''}`);
  print();
  print(
    table(
      Object.entries(s.stages).map(([id, st]) => [id, String(st.total), ...TASK_STATES.map((x) => String(st[x] ?? 0))]),
      ['stage', 'total', ...TASK_STATES],
    ),
  );
  const running = view.tasks.filter((t) => t.state === 'running');
  if (running.length > 0) {
    print();
    print(c.bold(orphaned ? 'interrupted (runner gone)' : 'running'));
    print(
      table(
        running.map((t) => [
          t.id,
          progressText(t.progress) || '-',
          pct(t.progress?.step, t.progress?.total),
          t.lastCheckpoint ? `ckpt step ${t.lastCheckpoint.step} (${formatAge(t.lastCheckpoint.time, now)})` : 'no checkpoint',
          `attempt ${t.attempts}`,
          t.progress?.metrics ? Object.entries(t.progress.metrics).map(([m, v]) => `${m}=${Number(v.toPrecision(4))}`).join(' ') : '',
        ]),
      ),
    );
    // A long-running task's own status line (a paper trader: last bar, position, feed health).
    for (const t of running) if (t.progress?.message) print(c.dim(`  ${t.id}: ${t.progress.message}`));
  }
  const results = view.tasks.filter((t) => t.state === 'completed' && resultHeadline(t.result));
  if (results.length > 0) {
    print();
    print(c.bold('results'));
    print(table(results.slice(0, 20).map((t) => [t.id, resultHeadline(t.result)!])));
    if (results.length > 20) print(c.dim(`  ${results.length - 20} more: runner tasks ${view.spec.source.specPath}`));
  }
  const failed = view.tasks.filter((t) => t.state === 'failed');
  if (failed.length > 0) {
    print();
    print(c.red('failed'));
    for (const t of failed.slice(0, 10)) print(`  ${t.id}: ${t.error?.message ?? ''}`);
    print(c.dim(`  retry with: ${cmd} resume ${view.spec.source.specPath} '<task id or pattern>'`));
  }
}

/** HPO-like results (`trials: { complete, pruned, failed, total }`) summed over the run's tasks. */
function trialCounts(view: RunView): { complete: number; pruned: number; failed: number; total: number } | undefined {
  let found = false;
  const sum = { complete: 0, pruned: 0, failed: 0, total: 0 };
  for (const t of view.tasks) {
    const tr = (t.result as { trials?: Record<string, unknown> } | undefined)?.trials;
    if (!tr || typeof tr !== 'object') continue;
    found = true;
    for (const k of ['complete', 'pruned', 'failed', 'total'] as const) if (typeof tr[k] === 'number') sum[k] += tr[k] as number;
  }
  return found ? sum : undefined;
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status <spec>',
  describe: 'Show where a run stands: counts per state and stage, running tasks, failures',
  builder: (y) =>
    withJson(withSpec(y))
      .option('watch', { alias: 'w', type: 'boolean', describe: 'Refresh until interrupted' })
      .option('interval', { type: 'number', default: 2, describe: 'Seconds between refreshes with --watch' })
      .option('shards', { type: 'string', array: true, describe: 'All shards together: their run or snapshot directories, or globs (none: runs/<name>/shard-*)' })
      .option('snapshot-dir', { type: 'string', describe: 'With --shards: also read shards from this shared snapshot directory' })
      .example('$0 status configs/demo.yaml --json', '')
      .example("$0 status job.yaml --shards '/shared/runner/job/shard-*'", 'Where every shard of a sharded run stands') as never,
  handler: async (args) => {
    const spec = await loadSpec(args);
    for (;;) {
      if (args.shards) {
        if (args.watch && !args.json) process.stdout.write('\x1b[2J\x1b[H');
        await printShardsStatus(spec, args.shards, { json: args.json, snapshotDir: args.snapshotDir });
        if (!args.watch) return;
        await new Promise((r) => setTimeout(r, (args.interval ?? 2) * 1000));
        continue;
      }
      const store = openStore(spec, { readOnly: 'fallback' });
      try {
        const view = viewRun(spec, store, { light: { sample: ETA_SAMPLE } });
        if (args.json) printJson(statusJson(view));
        else {
          if (args.watch) process.stdout.write('\x1b[2J\x1b[H');
          render(view);
        }
      } finally {
        await store?.close();
      }
      if (!args.watch) return;
      await new Promise((r) => setTimeout(r, (args.interval ?? 2) * 1000));
    }
  },
};
