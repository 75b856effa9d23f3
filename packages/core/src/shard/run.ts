import { join } from 'node:path';
import type { ResolvedJobSpec } from '../config/types.js';
import { usage } from '../errors.js';
import { planRun, type Plan } from '../run/plan.js';
import type { Runner, RunnerOptions } from '../run/runner.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { resolveShardArg, resolveShardKey, SHARD_INFO_FILE, shardDirName, shardPlan, shardRunDir, splitPlan, type ShardInfo, type ShardRef } from './assign.js';
import { ShardKeeper } from './keeper.js';

export const SNAPSHOT_DIR_ENV = 'RUNNER_SNAPSHOT_DIR';
export const SNAPSHOT_EVERY_ENV = 'RUNNER_SNAPSHOT_EVERY';
export const SHARD_BY_ENV = 'RUNNER_SHARD_BY';

export interface ShardArgs {
  shard?: string;
  shardBy?: string[];
  snapshotDir?: string;
  snapshotEvery?: string;
}

export interface ShardedStart {
  spec: ResolvedJobSpec;
  shard?: ShardRef;
  runnerOptions: Pick<RunnerOptions, 'plan'>;
  keeper?: ShardKeeper;
  notes: string[];
  /** Attach to the runner (snapshots follow its events). */
  attach(runner: Runner): void;
  /** After the run: a last snapshot and the lease released. */
  close(): Promise<void>;
}

/** Parses `30s`, `5m`, `1h` or milliseconds. */
export function parseEvery(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(s);
  if (!m) throw usage(`--snapshot-every ${JSON.stringify(s)}: expected a duration such as 30s, 5m or 1h`);
  const n = Number(m[1]);
  const ms = n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms'];
  if (ms < 100) throw usage(`--snapshot-every ${s}: at least 100ms`);
  return ms;
}

/**
 * What `runner start --shard i/N [--snapshot-dir DIR]` changes: the run directory
 * (`runs/<name>/shard-i-of-N`), the tasks (the shard's cells; fan-in stages are left to
 * `runner gather`), and, with a snapshot directory, the lease and snapshots of {@link ShardKeeper}.
 */
export async function prepareShardedStart(base: ResolvedJobSpec, args: ShardArgs, log: ShardKeeperLog, env: NodeJS.ProcessEnv = process.env): Promise<ShardedStart> {
  const ref = resolveShardArg(args.shard, env);
  const snapshotRoot = args.snapshotDir ?? env[SNAPSHOT_DIR_ENV] ?? undefined;
  const notes: string[] = [];
  if (!ref) {
    if (snapshotRoot) throw usage('--snapshot-dir needs a shard (--shard i/N, or JOB_COMPLETION_INDEX with RUNNER_SHARD_COUNT)', 'For one machine, use --shard 0/1.');
    return { spec: base, runnerOptions: {}, notes, attach: () => {}, close: async () => {} };
  }
  const by = args.shardBy ?? (env[SHARD_BY_ENV] ? [env[SHARD_BY_ENV]!] : undefined);
  const key = resolveShardKey(base, by);
  const shard: ShardRef = { ...ref, key };
  const spec: ResolvedJobSpec = Object.freeze({ ...base, runDir: shardRunDir(base, shard) });
  const plan = (full: Plan): Plan => {
    const split = splitPlan(base, full, key, shard.count);
    return shardPlan(full, split.shards[shard.index]!, shard);
  };
  const fullPlan = planRun(base);
  const mine = plan(fullPlan);
  const gathered = splitPlan(base, fullPlan, key, shard.count).gather.size;
  notes.push(
    `shard ${shard.index}/${shard.count} by ${key.join(',')}: ${mine.tasks.length} of ${fullPlan.tasks.length} tasks` +
      (gathered > 0 ? `; ${gathered} fan-in task${gathered === 1 ? '' : 's'} left to \`runner gather\`` : ''),
  );
  const info: ShardInfo = { name: base.name, index: shard.index, count: shard.count, key: [...key], runDir: spec.runDir };
  writeFileAtomicSync(join(spec.runDir, SHARD_INFO_FILE), JSON.stringify(info) + '\n');
  let keeper: ShardKeeper | undefined;
  if (snapshotRoot) {
    const everyRaw = args.snapshotEvery ?? env[SNAPSHOT_EVERY_ENV];
    const opened = await ShardKeeper.open({
      dir: join(snapshotRoot, base.name, shardDirName(shard.index, shard.count)),
      runDir: spec.runDir,
      everyMs: everyRaw ? parseEvery(everyRaw) : 30_000,
      ttlMs: base.lease.ttlMs,
      heartbeatMs: base.lease.heartbeatMs,
      log,
    });
    keeper = opened.keeper;
    notes.push(...opened.notes);
    // The restore replaced the directory: write the shard's identity again.
    writeFileAtomicSync(join(spec.runDir, SHARD_INFO_FILE), JSON.stringify(info) + '\n');
  }
  return {
    spec,
    shard,
    runnerOptions: { plan },
    keeper,
    notes,
    attach: (runner) => keeper?.attach(runner),
    close: async () => keeper?.close(),
  };
}

export type ShardKeeperLog = (level: 'info' | 'warn' | 'error', message: string) => void;
