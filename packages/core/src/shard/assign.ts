import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ResolvedJobSpec, ResolvedStage } from '../config/types.js';
import { usage } from '../errors.js';
import type { Cell } from '../plugin/types.js';
import { hashValue, type Plan, type PlannedTask } from '../run/plan.js';

/** One shard of a run: `index` of `count`, cells assigned by the hash of their values of `key`. */
export interface ShardRef {
  index: number;
  count: number;
  /** Matrix keys whose values decide a cell's shard. */
  key: readonly string[];
}

/**
 * How each stage takes part in a sharded run:
 * - `cell`: runs over every shard key, so each of its tasks belongs to exactly one shard;
 * - `upstream`: coarser than the shard key but needs no cell stage (a download per symbol when
 *   shards split symbol × horizon, a global preparation); a shard runs the tasks of it that its own
 *   tasks need, so each shard holds a copy;
 * - `gather`: fans in over cells (coarser than the shard key and downstream of a cell stage), or
 *   needs such a stage: runs once, in `runner gather`, over every shard's results.
 */
export type StageRole = 'cell' | 'upstream' | 'gather';

export const SHARD_COUNT_ENV = 'RUNNER_SHARD_COUNT';
export const SHARD_INDEX_ENV = 'JOB_COMPLETION_INDEX';

/** `runs/<name>/shard-<i>-of-<N>`: each shard its own store. */
export function shardDirName(index: number, count: number): string {
  return `shard-${index}-of-${count}`;
}

export function shardRunDir(spec: ResolvedJobSpec, shard: Pick<ShardRef, 'index' | 'count'>): string {
  return join(spec.runDir, shardDirName(shard.index, shard.count));
}

export function parseShardDirName(name: string): { index: number; count: number } | undefined {
  const m = /^shard-(\d+)-of-(\d+)$/.exec(name);
  return m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
}

/**
 * The shard to run: `--shard i/N`, else Kubernetes' `JOB_COMPLETION_INDEX` with the count from
 * `RUNNER_SHARD_COUNT`. Undefined when neither is set (an ordinary, unsharded run).
 */
export function resolveShardArg(arg: string | undefined, env: NodeJS.ProcessEnv = process.env): { index: number; count: number } | undefined {
  if (arg !== undefined) {
    const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(arg);
    if (!m) throw usage(`--shard ${JSON.stringify(arg)}: expected i/N, e.g. --shard 0/4`, 'Shards are numbered from 0: --shard 0/4 … --shard 3/4.');
    return checkShard(Number(m[1]), Number(m[2]), `--shard ${arg}`);
  }
  const count = env[SHARD_COUNT_ENV];
  if (count === undefined || count === '') return undefined;
  const index = env[SHARD_INDEX_ENV];
  if (index === undefined || index === '') {
    throw usage(`${SHARD_COUNT_ENV}=${count} is set but ${SHARD_INDEX_ENV} is not`, `Set ${SHARD_INDEX_ENV} (Kubernetes does in an Indexed Job), or pass --shard i/N.`);
  }
  if (!/^\d+$/.test(count) || !/^\d+$/.test(index)) throw usage(`${SHARD_INDEX_ENV}=${index}, ${SHARD_COUNT_ENV}=${count}: expected whole numbers`);
  return checkShard(Number(index), Number(count), `${SHARD_INDEX_ENV}=${index} ${SHARD_COUNT_ENV}=${count}`);
}

function checkShard(index: number, count: number, what: string): { index: number; count: number } {
  if (count < 1) throw usage(`${what}: the shard count must be at least 1`);
  if (index >= count) throw usage(`${what}: shard index ${index} is out of range`, `Shards are numbered 0 to ${count - 1}.`);
  return { index, count };
}

/**
 * The shard key: `--shard-by` when given, else the matrix keys every stage with a non-empty `per`
 * shares, else the keys of the first such stage.
 */
export function resolveShardKey(spec: ResolvedJobSpec, by?: readonly string[]): string[] {
  const keys = Object.keys(spec.matrix);
  if (by && by.length > 0) {
    const flat = by.flatMap((b) => b.split(',')).map((s) => s.trim()).filter(Boolean);
    for (const k of flat) {
      if (!keys.includes(k)) throw usage(`--shard-by ${k}: not a matrix key of ${spec.name}`, `Matrix keys: ${keys.join(', ') || '(none)'}.`);
    }
    return keys.filter((k) => flat.includes(k));
  }
  const pers = spec.stages.map((s) => s.per).filter((p) => p.length > 0);
  if (pers.length === 0) {
    throw usage(`${spec.name}: no stage runs over a matrix key, so there is nothing to shard`, 'Shard a spec with a matrix and stages per cell; run this one unsharded.');
  }
  const common = keys.filter((k) => pers.every((p) => p.includes(k)));
  return common.length > 0 ? common : keys.filter((k) => pers[0]!.includes(k));
}

export function stageRoles(spec: ResolvedJobSpec, key: readonly string[]): Map<string, StageRole> {
  const byId = new Map(spec.stages.map((s) => [s.id, s]));
  const roles = new Map<string, StageRole>();
  const covers = (s: ResolvedStage) => key.every((k) => s.per.includes(k));
  const visit = (s: ResolvedStage, seen: Set<string>): StageRole => {
    const known = roles.get(s.id);
    if (known) return known;
    if (seen.has(s.id)) return 'upstream';
    seen.add(s.id);
    const needs = s.needs.map((n) => visit(byId.get(n)!, seen));
    let role: StageRole;
    if (needs.includes('gather')) role = 'gather';
    else if (covers(s)) role = 'cell';
    else role = needs.includes('cell') ? 'gather' : 'upstream';
    roles.set(s.id, role);
    return role;
  };
  for (const s of spec.stages) visit(s, new Set());
  return roles;
}

/** Stable across processes, machines and versions of Node: sha256 of the cell's shard-key values. */
export function shardOfCell(cell: Cell, key: readonly string[], count: number): number {
  const text = key.map((k) => `${k}=${String(cell[k])}`).join('\u0000');
  const h = createHash('sha256').update(text).digest();
  return h.readUInt32BE(0) % count;
}

export interface ShardSplit {
  key: readonly string[];
  roles: Map<string, StageRole>;
  /** Task ids each shard runs (its cell tasks and the upstream tasks they need). */
  shards: Set<string>[];
  /** Task ids only `runner gather` runs. */
  gather: Set<string>;
}

/** Splits a plan's tasks over `count` shards and the gather step. */
export function splitPlan(spec: ResolvedJobSpec, plan: Plan, key: readonly string[], count: number): ShardSplit {
  const roles = stageRoles(spec, key);
  const shards = Array.from({ length: count }, () => new Set<string>());
  const neededByShards = new Set<string>();
  for (const t of plan.tasks) {
    if (roles.get(t.stage) !== 'cell') continue;
    const s = shards[shardOfCell(t.cell, key, count)]!;
    const stack = [t.id];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (s.has(id)) continue;
      s.add(id);
      neededByShards.add(id);
      stack.push(...plan.byId.get(id)!.needs);
    }
  }
  const gather = new Set<string>();
  for (const t of plan.tasks) if (!neededByShards.has(t.id)) gather.add(t.id);
  return { key, roles, shards, gather };
}

/** The part of a plan one shard runs: a plan of its own, with its own digest. */
export function shardPlan(plan: Plan, ids: Set<string>, shard: ShardRef): Plan {
  const tasks: PlannedTask[] = plan.tasks.filter((t) => ids.has(t.id));
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const dependents = new Map<string, string[]>();
  for (const [id, ds] of plan.dependents) {
    if (!ids.has(id)) continue;
    const kept = ds.filter((d) => ids.has(d));
    if (kept.length > 0) dependents.set(id, kept);
  }
  const digest = hashValue({ full: plan.digest, shard: [shard.index, shard.count], key: shard.key });
  return { tasks, byId, dependents, digest };
}

/** The shard a run directory was written by (`shard.json`, written when the shard starts). */
export interface ShardInfo {
  name: string;
  index: number;
  count: number;
  key: string[];
  /** Where the shard's run directory was when it last started: paths in results start with it. */
  runDir?: string;
}

export const SHARD_INFO_FILE = 'shard.json';
