/** The loader's steps for plugins and stages: load the plugins, then check and resolve each stage. */
import { closest, pluginNotFound, type RunnerError } from '../errors.js';
import { BUILTIN_PLUGINS, loadPluginModule, resolvePluginEntry, type LoadedPlugin } from '../plugin/load.js';
import { deepFreeze, deepMerge, isPlainObject } from '../util/object.js';
import { planIssues } from './guards.js';
import { resolveStageOptions } from './options.js';
import type { ResolvedStage, UserJobSpec, UserStage } from './types.js';
import type { SchemaIssue } from './validate.js';

/** What the stage steps need from the loader: where to look for plugins, and where issues go. */
export interface StageContext {
  specDir: string;
  searchDirs: string[];
  checkResources: boolean;
  /** Records an issue (placed at its file, line and column by the loader). */
  report(issue: SchemaIssue): void;
}

export function isStage(s: unknown): s is UserStage {
  return typeof s === 'object' && s !== null && typeof (s as UserStage).id === 'string' && typeof (s as UserStage).plugin === 'string';
}

/** Loads the modules listed under `plugins`, by their name and by the reference written. */
export async function loadListedPlugins(spec: UserJobSpec, ctx: StageContext): Promise<Map<string, LoadedPlugin>> {
  const plugins = new Map<string, LoadedPlugin>();
  const listed = (spec.plugins ?? []).map((ref, i) => ({ ref, i }));
  for (const { ref, i } of listed) {
    const found = resolvePluginEntry(ref, ctx.specDir, ctx.searchDirs);
    if (!found) {
      ctx.report({ path: ['plugins', i], message: `cannot find plugin module "${ref}"`, hint: 'Give a path relative to the job spec (./plugins/my-plugin.mjs) or an installed package name.' });
      continue;
    }
    try {
      const p = await loadPluginModule(found.entry, found.source);
      plugins.set(p.name, p);
      plugins.set(ref, p);
    } catch (err) {
      const e = err as RunnerError;
      ctx.report({ path: ['plugins', i], message: e.message, hint: e.hint });
    }
  }
  return plugins;
}

/** Checks and resolves every stage that has an id and a plugin (the schema reported the rest). */
export async function resolveStages(spec: UserJobSpec, plugins: Map<string, LoadedPlugin>, ctx: StageContext): Promise<ResolvedStage[]> {
  const stages: ResolvedStage[] = [];
  const userStages: UserStage[] = Array.isArray(spec.stages) ? spec.stages : [];
  const stageIds = userStages.filter(isStage).map((s) => s.id);
  const matrixKeys = spec.matrix && typeof spec.matrix === 'object' ? Object.keys(spec.matrix) : [];
  const pool = isPlainObject(spec.pool) ? (spec.pool as NonNullable<UserJobSpec['pool']>) : {};
  const seen = new Set<string>();
  for (const [index, st] of userStages.entries()) {
    if (!isStage(st)) continue;
    if (seen.has(st.id)) ctx.report({ path: ['stages', index, 'id'], message: `duplicate stage id "${st.id}"`, hint: 'Give every stage a unique id.' });
    seen.add(st.id);
    const needs = checkNeeds(st, index, stageIds, ctx);
    const per = checkPer(st, index, matrixKeys, ctx);
    const plugin = await findPlugin(st.plugin, plugins, ctx, (message, hint) => ctx.report({ path: ['stages', index, 'plugin'], message, hint }));
    if (!plugin) continue;
    const opts = resolveOptions(spec, st, index, plugin, ctx);
    const resources = checkResources(st, index, pool, ctx);
    const def = plugin.definition;
    const isolation = st.isolation ?? (typeof def.isolation === 'function' ? def.isolation(opts) : def.isolation) ?? pool.isolation ?? 'thread';
    const retries = deepMerge(structuredClone((spec.retries ?? {}) as Record<string, unknown>), (st.retries ?? {}) as Record<string, unknown>) as unknown as ResolvedStage['retries'];
    stages.push(
      Object.freeze({
        id: st.id,
        index,
        plugin,
        description: st.description,
        needs,
        per: per ?? matrixKeys,
        options: deepFreeze(opts),
        retries: deepFreeze(retries),
        resources: deepFreeze(resources),
        isolation,
        timeoutMs: st.timeoutMs,
      }) as ResolvedStage,
    );
  }
  return stages;
}

function checkNeeds(st: UserStage, index: number, stageIds: string[], ctx: StageContext): string[] {
  const needs = Array.isArray(st.needs) ? st.needs.filter((n): n is string => typeof n === 'string') : [];
  for (const [j, need] of needs.entries()) {
    if (!stageIds.includes(need)) {
      const guess = closest(need, stageIds);
      ctx.report({ path: ['stages', index, 'needs', j], message: `unknown stage "${need}"`, hint: `${guess ? `Did you mean "${guess}"? ` : ''}Stages: ${stageIds.join(', ')}.` });
    } else if (need === st.id) {
      ctx.report({ path: ['stages', index, 'needs', j], message: 'a stage cannot need itself', hint: 'Remove it from needs.' });
    }
  }
  return needs;
}

function checkPer(st: UserStage, index: number, matrixKeys: string[], ctx: StageContext): string[] | undefined {
  const per = Array.isArray(st.per) ? st.per.filter((n): n is string => typeof n === 'string') : undefined;
  for (const [j, key] of (per ?? []).entries()) {
    if (!matrixKeys.includes(key)) {
      ctx.report({ path: ['stages', index, 'per', j], message: `"${key}" is not a matrix key`, hint: `Matrix keys: ${matrixKeys.join(', ') || '(none)'}.` });
    }
  }
  return per;
}

/** pluginDefaults < the stage's options, defaulted by the plugin's schema, then the plugin's own validate(). */
function resolveOptions(spec: UserJobSpec, st: UserStage, index: number, plugin: LoadedPlugin, ctx: StageContext): Record<string, unknown> {
  const defaults = (spec.pluginDefaults ?? {})[plugin.name] ?? {};
  const { options, issues } = resolveStageOptions({
    schema: plugin.schema,
    layers: [defaults, st.options],
    // `${params.x}` placeholders are filled per trial (runChild params); their type is checked then.
    allowPlaceholders: true,
    base: ['stages', index, 'options'],
  });
  for (const i of issues) ctx.report(i);
  if (issues.length === 0 && typeof plugin.definition.validate === 'function') {
    try {
      for (const i of plugin.definition.validate(options) ?? []) {
        ctx.report({ path: ['stages', index, 'options', ...i.path], message: i.message, hint: i.hint });
      }
    } catch (err) {
      ctx.report({ path: ['stages', index, 'options'], message: `the ${plugin.name} plugin's validate() threw: ${(err as Error).message}` });
    }
  }
  return options;
}

function checkResources(st: UserStage, index: number, pool: NonNullable<UserJobSpec['pool']>, ctx: StageContext): Record<string, number> {
  const resources = isPlainObject(st.resources) ? (st.resources as Record<string, number>) : {};
  for (const [res, n] of Object.entries(resources)) {
    const cap = res === 'gpu' ? (pool.gpus ?? 0) : Infinity;
    if (ctx.checkResources && n > cap) {
      ctx.report({
        path: ['stages', index, 'resources', res],
        message: `needs ${n} ${res} per task but this host offers ${cap === Infinity ? 'none' : cap}`,
        hint: res === 'gpu' ? 'Pass --gpus N (or set pool.gpus) to say how many GPUs this host has.' : 'Only gpu is a known resource.',
      });
    }
  }
  return resources;
}

async function findPlugin(
  ref: string,
  loaded: Map<string, LoadedPlugin>,
  ctx: StageContext,
  report: (message: string, hint?: string) => void,
): Promise<LoadedPlugin | undefined> {
  const known = loaded.get(ref);
  if (known) return known;
  const found = resolvePluginEntry(ref, ctx.specDir, ctx.searchDirs);
  if (!found) {
    const names = [...new Set([...BUILTIN_PLUGINS, ...[...loaded.values()].map((p) => p.name)])];
    const err = pluginNotFound(ref, names);
    report(err.message, err.hint);
    return undefined;
  }
  try {
    const p = await loadPluginModule(found.entry, found.source);
    loaded.set(ref, p);
    return p;
  } catch (err) {
    const e = err as RunnerError;
    report(e.message, e.hint);
    return undefined;
  }
}

/** Checks across stages and the matrix: needs in a cycle, matrix key names, lease timing, plan size. */
export function checkWholeSpec(spec: UserJobSpec, ctx: StageContext): void {
  const userStages: UserStage[] = Array.isArray(spec.stages) ? spec.stages : [];
  const matrixKeys = spec.matrix && typeof spec.matrix === 'object' ? Object.keys(spec.matrix) : [];
  const cycle = findCycle(userStages.filter(isStage));
  if (cycle) ctx.report({ path: ['stages'], message: `stages need each other in a cycle: ${cycle.join(' → ')}`, hint: 'Remove one of these needs.' });
  for (const key of matrixKeys) {
    if (!/^[A-Za-z_][\w-]*$/.test(key) || key === 'cycle') {
      ctx.report({ path: ['matrix', key], atKey: true, message: `"${key}" cannot be a matrix key`, hint: 'Use letters, digits, _ and - (and not "cycle", which every task has).' });
    }
  }
  const lease = isPlainObject(spec.lease) ? (spec.lease as { ttlMs?: unknown; heartbeatMs?: unknown }) : {};
  if (typeof lease.ttlMs === 'number' && typeof lease.heartbeatMs === 'number' && lease.heartbeatMs * 2 > lease.ttlMs) {
    ctx.report({ path: ['lease', 'heartbeatMs'], message: `must be at most half of lease.ttlMs (${lease.ttlMs}); got ${lease.heartbeatMs}`, hint: 'Other runners take a runner for dead once its heartbeat has not moved for ttlMs; it must beat at least twice in that time.' });
  }
  const cycleCount = Array.isArray(spec.cycle) ? spec.cycle.length : 1;
  if (isPlainObject(spec.matrix)) {
    for (const i of planIssues(spec.matrix, userStages.filter(isStage).map((st) => ({ id: st.id, per: Array.isArray(st.per) ? st.per : undefined })), cycleCount, spec.name)) ctx.report(i);
  }
}

function findCycle(stages: UserStage[]): string[] | undefined {
  const byId = new Map(stages.map((s) => [s.id, s]));
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 2) return undefined;
    if (state.get(id) === 1) return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 1);
    stack.push(id);
    const needs = byId.get(id)?.needs;
    for (const n of Array.isArray(needs) ? needs : []) {
      if (n === id || !byId.has(n)) continue;
      const c = visit(n);
      if (c) return c;
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const s of stages) {
    const c = visit(s.id);
    if (c) return c;
  }
  return undefined;
}
