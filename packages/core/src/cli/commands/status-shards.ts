import type { ResolvedJobSpec } from '../../config/types.js';
import { SNAPSHOT_DIR_ENV } from '../../shard/run.js';
import { openShardSources } from '../../shard/sources.js';
import { shardsStatusJson, type ShardsStatus } from '../../shard/status.js';
import { bar, c, formatDuration, stateColor, table } from '../format.js';
import { print, printJson } from '../shared.js';

/** `runner status <spec> --shards [dirs or globs]`: the shards of a run together. */
export async function printShardsStatus(spec: ResolvedJobSpec, paths: string[], opts: { json?: boolean; snapshotDir?: string }): Promise<void> {
  const found = await openShardSources(spec, paths, opts.snapshotDir ?? process.env[SNAPSHOT_DIR_ENV]);
  try {
    const s = shardsStatusJson(spec, found.sources);
    if (opts.json) printJson(s);
    else render(s);
  } finally {
    await found.close();
  }
}

function render(s: ShardsStatus): void {
  if (s.shards === 0) {
    print(`${c.bold(s.name)}: no shard has started yet (looked for runs/${s.name}/shard-i-of-N and the directories given with --shards)`);
    return;
  }
  const k = s.tasks;
  print(`${c.bold(s.name)}  ${s.shards} shards by ${s.key.join(',')}, ${s.found} found${s.missing.length ? c.yellow(` (not started: ${s.missing.join(', ')})`) : ''}`);
  print(
    `${bar(s.progress)} ${Math.floor(s.progress * 100)}%  ${k.total} tasks: ${stateColor('completed', `${k.completed} completed`)}, ${stateColor('running', `${k.running} running`)}, ${k.pending} pending${k.blocked ? ` (${k.blocked} blocked)` : ''}, ${stateColor('failed', `${k.failed} failed`)}, ${stateColor('cancelled', `${k.cancelled} cancelled`)}`,
  );
  if (s.eta && k.pending + k.running > 0) print(c.dim(`ETA ~${formatDuration(s.eta.seconds * 1000)} (the slowest shard)`));
  print();
  print(
    table(
      s.perShard.map((p: any) => [
        String(p.index),
        p.started ? `${Math.floor(p.progress * 100)}%` : 'not started',
        `${p.tasks.completed}/${p.tasks.total}`,
        String(p.tasks.running),
        String(p.tasks.failed),
        p.eta && p.tasks.pending + p.tasks.running > 0 ? formatDuration(p.eta.seconds * 1000) : '-',
        String(p.runners),
        p.snapshot ? `snapshot ${p.snapshot.seq} (${p.snapshot.createdAt})` : (p.path ?? '-'),
      ]),
      ['shard', 'progress', 'completed', 'running', 'failed', 'ETA', 'runners', 'read from'],
    ),
  );
  if (s.gather) {
    const g = s.gather.tasks as { total: number; completed: number; failed: number };
    print();
    print(`gather (${(s.gather.stages as string[]).join(', ') || 'no fan-in stages'}): ${s.gather.started ? `${g.completed}/${g.total} completed${g.failed ? `, ${g.failed} failed` : ''}` : `${g.total} tasks, not gathered yet`}`);
  }
  if (s.failed.length > 0) {
    print();
    print(c.red('failed'));
    for (const t of s.failed.slice(0, 10)) print(`  shard ${t.shard}: ${t.id}: ${t.error?.message ?? ''}`);
    print(c.dim(`  retry with: runner resume <spec> '<task id>' on the shard's store, then start that shard again`));
  }
}
