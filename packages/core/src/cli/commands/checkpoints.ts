import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { taskState, usage } from '../../errors.js';
import { ARTIFACTS_DIR, CHECKPOINTS_SUBDIR } from '../../util/run-paths.js';
import type { RunStore } from '../../store/lmdb-store.js';
import type { CheckpointRecord } from '../../store/types.js';
import { confirm } from '../confirm.js';
import { c, formatAge, formatBytes, parseDuration, table } from '../format.js';
import { liveOwners, loadSpec, matchTasks, openStore, print, printJson, viewRun, withJson, withSpec, type RunView, type SpecArgs } from '../shared.js';

interface CkptArgs extends SpecArgs {
  action?: string;
  task?: string;
  force?: boolean;
  olderThan?: string;
  keep?: number;
  all?: boolean;
  dryRun?: boolean;
}

const meta = (r: CheckpointRecord) => ({
  task: r.taskId,
  seq: r.seq,
  type: r.type,
  step: r.step,
  total: r.total ?? null,
  time: new Date(r.time).toISOString(),
  size: r.size,
  checksum: r.checksum,
  file: r.file ?? null,
  metrics: r.metrics ?? null,
  pluginVersion: r.pluginVersion,
});

export const checkpointsCommand: CommandModule<object, CkptArgs> = {
  command: 'checkpoints <spec> [action] [task]',
  describe: 'Inspect and manage checkpoints: list, show <task>, stats, delete <task>, prune',
  builder: (y) =>
    withJson(withSpec(y))
      .positional('action', { type: 'string', choices: ['list', 'show', 'stats', 'delete', 'prune'], default: 'list', describe: 'What to do' })
      .positional('task', { type: 'string', describe: 'Task id or pattern (show, delete)' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'delete: do not ask for confirmation' })
      .option('older-than', { type: 'string', describe: 'prune: remove checkpoints older than this (30d, 12h, 90m)' })
      .option('keep', { type: 'number', describe: 'prune: keep at most this many per task' })
      .option('all', { type: 'boolean', describe: "prune: also remove an unfinished task's newest checkpoint" })
      .option('dry-run', { type: 'boolean', describe: 'prune: show what would be removed' })
      .example('$0 checkpoints configs/demo.yaml show work/symbol=AAPL/horizon=1/cycle=2', '')
      .example('$0 checkpoints configs/demo.yaml prune --older-than 30d', '') as never,
  handler: async (args) => {
    const spec = await loadSpec(args);
    const store = openStore(spec);
    if (!store) {
      if (args.json) printJson(args.action === 'stats' ? { total: 0, totalBytes: 0 } : []);
      else print(c.dim(`run ${spec.name} has not started yet; no checkpoints`));
      return;
    }
    try {
      const view = viewRun(spec, store);
      switch (args.action) {
        case 'show':
          return show(view, store, args);
        case 'stats':
          return stats(view, store, args);
        case 'delete':
          return remove(view, store, args);
        case 'prune':
          return prune(view, store, args);
        default:
          return list(view, store, args);
      }
    } finally {
      await store.close();
    }
  },
};

function recordsOf(view: RunView, store: RunStore): CheckpointRecord[] {
  const ids = new Set([...view.tasks, ...view.children].map((t) => t.id));
  return [...store.allCheckpoints()].filter((r) => ids.has(r.taskId));
}

function list(view: RunView, store: RunStore, args: CkptArgs): void {
  const recs = recordsOf(view, store);
  if (args.json) return printJson(recs.map(meta));
  if (recs.length === 0) return print(c.dim('no checkpoints'));
  const now = Date.now();
  print(table(recs.map((r) => [r.taskId, `#${r.seq}`, r.type, `${r.step}${r.total ? `/${r.total}` : ''}`, formatAge(r.time, now), formatBytes(r.size)]), ['task', 'seq', 'type', 'step', 'age', 'size']));
}

function show(view: RunView, store: RunStore, args: CkptArgs): void {
  if (!args.task) throw usage('checkpoints show needs a task id', `e.g. runner checkpoints ${args.spec} show ${view.tasks[0]?.id ?? '<task>'}`);
  const ids = matchTasks(view, [args.task]);
  const out = ids.map((id) => ({ task: id, state: store.getTask(id)?.state ?? 'pending', checkpoints: store.listCheckpoints(id).map(meta) }));
  if (args.json) return printJson(out.length === 1 ? out[0] : out);
  const now = Date.now();
  for (const t of out) {
    print(c.bold(t.task) + c.dim(`  (${t.state})`));
    if (t.checkpoints.length === 0) print(c.dim('  no checkpoints: it starts fresh'));
    for (const [i, k] of t.checkpoints.entries()) {
      print(`  #${k.seq} ${k.type}${i === 0 ? c.green(' (newest: resumes from here)') : ''}`);
      print(`    step      ${k.step}${k.total !== null ? ` / ${k.total}` : ''}`);
      print(`    created   ${k.time} (${formatAge(Date.parse(k.time), now)})`);
      print(`    size      ${formatBytes(k.size)}${k.file ? `  file ${k.file}` : '  (in the store)'}`);
      print(`    checksum  sha256:${k.checksum.slice(0, 16)}…`);
      if (k.metrics) print(`    metrics   ${Object.entries(k.metrics).map(([m, v]) => `${m}=${v}`).join(' ')}`);
    }
    if (t.state === 'cancelled' || t.state === 'failed') print(c.dim(`  to resume: runner resume ${args.spec} '${t.task}'`));
  }
}

function stats(view: RunView, store: RunStore, args: CkptArgs): void {
  const recs = recordsOf(view, store);
  const orphans = findOrphans(view.spec.runDir, store);
  const byType: Record<string, number> = {};
  for (const r of recs) byType[r.type] = (byType[r.type] ?? 0) + 1;
  const s = {
    total: recs.length,
    tasks: new Set(recs.map((r) => r.taskId)).size,
    totalBytes: recs.reduce((a, r) => a + r.size, 0),
    inStoreBytes: recs.filter((r) => !r.file).reduce((a, r) => a + r.size, 0),
    fileBytes: recs.filter((r) => r.file).reduce((a, r) => a + r.size, 0),
    byType,
    oldest: recs.length ? new Date(Math.min(...recs.map((r) => r.time))).toISOString() : null,
    newest: recs.length ? new Date(Math.max(...recs.map((r) => r.time))).toISOString() : null,
    orphanFiles: orphans.length,
    orphanBytes: orphans.reduce((a, o) => a + o.size, 0),
  };
  if (args.json) return printJson(s);
  print(`${s.total} checkpoints of ${s.tasks} tasks, ${formatBytes(s.totalBytes)} (${formatBytes(s.inStoreBytes)} in the store, ${formatBytes(s.fileBytes)} in files)`);
  print(`by type: ${Object.entries(byType).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`);
  if (s.oldest) print(`oldest ${s.oldest} (${formatAge(Date.parse(s.oldest))}), newest ${s.newest}`);
  if (s.orphanFiles) print(c.yellow(`${s.orphanFiles} orphaned files (${formatBytes(s.orphanBytes)}); remove with: runner checkpoints ${args.spec} prune`));
}

async function remove(view: RunView, store: RunStore, args: CkptArgs): Promise<void> {
  if (!args.task) throw usage('checkpoints delete needs a task id or pattern');
  const ids = matchTasks(view, [args.task]);
  const live = new Set(liveOwners(store).map((o) => o.id));
  const busy = ids.filter((id) => {
    const t = store.getTask(id);
    return t?.state === 'running' && t.owner && live.has(t.owner.id);
  });
  if (busy.length > 0) throw taskState(`${busy[0]} is running`, 'Cancel it first (`runner cancel`), or wait until it ends.', busy[0]);
  const keys = ids.flatMap((id) => store.listCheckpoints(id).map((r) => [r.taskId, r.seq] as [string, number]));
  if (keys.length === 0) return print(c.dim('no checkpoints to delete'));
  if (!args.force) {
    const ok = await confirm(`Delete ${keys.length} checkpoint${keys.length === 1 ? '' : 's'} of ${ids.length} task${ids.length === 1 ? '' : 's'}? Those tasks will start fresh.`);
    if (!ok) throw usage('not deleted', 'Pass --force to delete without asking (needed when not on a terminal).');
  }
  const files = await store.deleteCheckpoints(keys);
  for (const f of files) rmSync(join(view.spec.runDir, f), { force: true });
  if (args.json) return printJson({ deleted: keys.length, tasks: ids });
  print(`deleted ${keys.length} checkpoint${keys.length === 1 ? '' : 's'} of ${ids.length} task${ids.length === 1 ? '' : 's'}`);
}

async function prune(view: RunView, store: RunStore, args: CkptArgs): Promise<void> {
  const olderMs = args.olderThan !== undefined ? parseDuration(args.olderThan) : undefined;
  if (args.olderThan !== undefined && olderMs === undefined) throw usage(`--older-than: cannot read "${args.olderThan}"`, 'Use a number with a unit: 30d, 12h, 90m, 45s.');
  const now = Date.now();
  const byTask = new Map<string, CheckpointRecord[]>();
  for (const r of recordsOf(view, store)) {
    const l = byTask.get(r.taskId);
    if (l) l.push(r);
    else byTask.set(r.taskId, [r]);
  }
  const doomed: CheckpointRecord[] = [];
  for (const [taskId, recs] of byTask) {
    recs.sort((a, b) => b.seq - a.seq);
    const unfinished = store.getTask(taskId)?.state !== 'completed';
    recs.forEach((r, i) => {
      if (i === 0 && unfinished && !args.all) return;
      if ((olderMs !== undefined && now - r.time > olderMs) || (args.keep !== undefined && i >= args.keep)) doomed.push(r);
    });
  }
  const orphans = findOrphans(view.spec.runDir, store, liveOwners(store).length > 0 ? 60_000 : 0);
  const summary = { checkpoints: doomed.length, bytes: doomed.reduce((a, r) => a + r.size, 0), orphanFiles: orphans.length, orphanBytes: orphans.reduce((a, o) => a + o.size, 0), dryRun: !!args.dryRun };
  if (!args.dryRun) {
    const files = await store.deleteCheckpoints(doomed.map((r) => [r.taskId, r.seq]));
    for (const f of files) rmSync(join(view.spec.runDir, f), { force: true });
    for (const o of orphans) rmSync(o.path, { force: true });
  }
  if (args.json) return printJson(summary);
  const verb = args.dryRun ? 'would remove' : 'removed';
  print(`${verb} ${summary.checkpoints} checkpoint${summary.checkpoints === 1 ? '' : 's'} (${formatBytes(summary.bytes)}) and ${summary.orphanFiles} orphaned file${summary.orphanFiles === 1 ? '' : 's'} (${formatBytes(summary.orphanBytes)})`);
  if (olderMs === undefined && args.keep === undefined) print(c.dim('only orphaned files were considered; add --older-than 30d or --keep N to prune checkpoints'));
}

/** Checkpoint files no record points at, and temporary files left by interrupted writes. */
export function findOrphans(runDir: string, store: RunStore, minAgeMs = 0): { path: string; size: number }[] {
  const referenced = new Set<string>();
  for (const r of store.allCheckpoints()) if (r.file) referenced.add(r.file);
  const out: { path: string; size: number }[] = [];
  const now = Date.now();
  const walk = (dir: string, inCkpt: boolean) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, inCkpt || e.name === CHECKPOINTS_SUBDIR);
      else if (e.isFile()) {
        const isTmp = e.name.endsWith('.tmp') && e.name.startsWith('.');
        if (!isTmp && !(inCkpt && !referenced.has(relative(runDir, p)))) continue;
        const st = statSync(p);
        if (now - st.mtimeMs < minAgeMs) continue;
        out.push({ path: p, size: st.size });
      }
    }
  };
  walk(join(runDir, ARTIFACTS_DIR), false);
  return out;
}
