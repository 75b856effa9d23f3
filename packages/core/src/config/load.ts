import { cosmiconfig, type CosmiconfigResult } from 'cosmiconfig';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { parse as parseYamlValue } from 'yaml';
import { closest, configInvalid, pluginNotFound, RunnerError, usage, type ErrorIssue } from '../errors.js';
import { BUILTIN_PLUGINS, loadPluginModule, resolvePluginEntry, type LoadedPlugin } from '../plugin/load.js';
import type { Scalar } from '../plugin/types.js';
import { isForbiddenKey, planIssues, sanitizeConfig } from './guards.js';
import { coreSchema, projectSchema, PROJECT_KEYS } from './schema.js';
import { formatPath, locate, parseYamlText, readYamlFile, type PathSegment, type SourceFile } from './source.js';
import type { ResolvedJobSpec, ResolvedStage, UserJobSpec, UserStage } from './types.js';
import { validateSchema, type SchemaIssue } from './validate.js';

export interface LoadOptions {
  /** `key=value` overrides, applied after the spec. */
  set?: string[];
  /** Overrides pool.threads. */
  threads?: number;
  /** Overrides pool.gpus. */
  gpus?: number;
  /** Check stage resources against this host's capacity (start, validate). */
  checkResources?: boolean;
  /** Directory relative paths are shown against in messages. Default: process.cwd(). */
  cwd?: string;
}

interface Override {
  path: PathSegment[];
  raw: string;
}

/**
 * Loads a job spec: finds project defaults with cosmiconfig, merges spec and `--set` overrides,
 * validates everything against the core schema and each plugin's options schema (filling
 * defaults), and loads the plugins. Every problem is reported at once with file, line, column
 * and config path.
 */
export async function loadJobSpec(specPath: string, options: LoadOptions = {}): Promise<ResolvedJobSpec> {
  const cwd = options.cwd ?? process.cwd();
  const absSpec = resolve(cwd, specPath);
  const shown = displayPath(absSpec, cwd);
  const { value: specValue, source: specSource } = readYamlFile(absSpec, shown);
  const issues: ErrorIssue[] = [];
  const sanitized = sanitizeConfig(specValue);
  for (const i of sanitized) issues.push(place(i, specSource, shown));

  if (typeof specValue !== 'object' || specValue === null || Array.isArray(specValue)) {
    throw configInvalid(shown, [{ file: shown, line: 1, col: 1, message: 'the job spec must be a mapping of keys (name, matrix, stages, ...)', hint: 'See configs/quickstart.yaml for an example.' }]);
  }

  // Project defaults.
  const project = await findProjectConfig(dirname(absSpec));
  let projectValue: Record<string, unknown> = {};
  let projectSource: SourceFile | undefined;
  const projectShown = project ? displayPath(project.filepath, cwd) : undefined;
  if (project && !project.isEmpty) {
    projectValue = (project.config ?? {}) as Record<string, unknown>;
    projectSource = sourceOf(project.filepath, projectShown!);
    for (const i of sanitizeConfig(projectValue)) issues.push(place(i, projectSource, projectShown!));
    for (const i of validateSchema(projectSchema, projectValue, [], { useDefaults: false })) {
      issues.push(place(i, projectSource, projectShown!));
    }
  }
  const projectRoot = project ? dirname(project.filepath) : findPackageRoot(dirname(absSpec)) ?? dirname(absSpec);

  // Merge: project defaults < spec < --set.
  const merged = mergeProject(projectValue, specValue as Record<string, unknown>);
  const overrides: Override[] = [];
  for (const raw of options.set ?? []) {
    try {
      overrides.push(applyOverride(merged, raw));
    } catch (err) {
      if (err instanceof RunnerError) issues.push({ file: '--set', message: err.message, hint: err.hint });
      else throw err;
    }
  }
  if (options.threads !== undefined) setIn(merged, ['pool', 'threads'], options.threads);
  if (options.gpus !== undefined) setIn(merged, ['pool', 'gpus'], options.gpus);

  const locateIssue = (i: SchemaIssue): ErrorIssue => {
    const flag = i.path[0] === 'pool' && i.path.length === 2 && ({ threads: options.threads, gpus: options.gpus } as Record<string, number | undefined>)[i.path[1] as string];
    if (flag !== undefined && flag !== false) return { file: `--${i.path[1] as string}`, path: formatPath(i.path), message: `${i.message} (from --${i.path[1] as string} ${flag})`, hint: i.hint };
    const ov = overrides.find((o) => startsWith(i.path, o.path) || startsWith(o.path, i.path));
    if (ov) return { file: '--set', path: formatPath(i.path), message: `${i.message} (from --set ${ov.raw})`, hint: i.hint };
    const inSpec = locate(specSource, i.path);
    if (!inSpec?.exact && projectSource) {
      const pp = projectPathFor(i.path, merged);
      const inProject = pp && locate(projectSource, pp);
      if (inProject?.exact) return place({ ...i, path: pp! }, projectSource, projectShown!, i.path);
    }
    return place(i, specSource, shown);
  };

  // A value already reported as not finite needs no second message from the schema.
  const reported = new Set(sanitized.map((i) => formatPath(i.path)));
  for (const i of validateSchema(coreSchema, merged)) if (!reported.has(formatPath(i.path))) issues.push(locateIssue(i));
  const spec = merged as unknown as UserJobSpec;
  const isStage = (s: unknown): s is UserStage =>
    typeof s === 'object' && s !== null && typeof (s as UserStage).id === 'string' && typeof (s as UserStage).plugin === 'string';

  // Plugins.
  const searchDirs = [dirname(absSpec), projectRoot, cwd];
  const plugins = new Map<string, LoadedPlugin>();
  const listed = (spec.plugins ?? []).map((ref, i) => ({ ref, i }));
  for (const { ref, i } of listed) {
    const found = resolvePluginEntry(ref, dirname(absSpec), searchDirs);
    if (!found) {
      issues.push(locateIssue({ path: ['plugins', i], message: `cannot find plugin module "${ref}"`, hint: 'Give a path relative to the job spec (./plugins/my-plugin.mjs) or an installed package name.' }));
      continue;
    }
    try {
      const p = await loadPluginModule(found.entry, found.source);
      plugins.set(p.name, p);
      plugins.set(ref, p);
    } catch (err) {
      const e = err as RunnerError;
      issues.push(locateIssue({ path: ['plugins', i], message: e.message, hint: e.hint }));
    }
  }

  const stages: ResolvedStage[] = [];
  // Stages too broken to place (no id or plugin) were reported above; check the rest fully.
  const userStages: UserStage[] = Array.isArray(spec.stages) ? spec.stages : [];
  const stageIds = userStages.filter(isStage).map((s) => s.id);
  const matrixKeys = spec.matrix && typeof spec.matrix === 'object' ? Object.keys(spec.matrix) : [];
  const seen = new Set<string>();
  for (const [index, st] of userStages.entries()) {
    if (!isStage(st)) continue;
    if (seen.has(st.id)) issues.push(locateIssue({ path: ['stages', index, 'id'], message: `duplicate stage id "${st.id}"`, hint: 'Give every stage a unique id.' }));
    seen.add(st.id);
    const needs = Array.isArray(st.needs) ? st.needs.filter((n): n is string => typeof n === 'string') : [];
    for (const [j, need] of needs.entries()) {
      if (!stageIds.includes(need)) {
        const guess = closest(need, stageIds);
        issues.push(locateIssue({ path: ['stages', index, 'needs', j], message: `unknown stage "${need}"`, hint: `${guess ? `Did you mean "${guess}"? ` : ''}Stages: ${stageIds.join(', ')}.` }));
      } else if (need === st.id) {
        issues.push(locateIssue({ path: ['stages', index, 'needs', j], message: 'a stage cannot need itself', hint: 'Remove it from needs.' }));
      }
    }
    const per = Array.isArray(st.per) ? st.per.filter((n): n is string => typeof n === 'string') : undefined;
    for (const [j, key] of (per ?? []).entries()) {
      if (!matrixKeys.includes(key)) {
        issues.push(locateIssue({ path: ['stages', index, 'per', j], message: `"${key}" is not a matrix key`, hint: `Matrix keys: ${matrixKeys.join(', ') || '(none)'}.` }));
      }
    }
    const plugin = await findPlugin(st.plugin, plugins, dirname(absSpec), searchDirs, (message, hint) =>
      issues.push(locateIssue({ path: ['stages', index, 'plugin'], message, hint })),
    );
    if (!plugin) continue;
    const defaults = (spec.pluginDefaults ?? {})[plugin.name] ?? {};
    const opts = deepMerge(structuredClone(isPlainObject(defaults) ? defaults : {}), isPlainObject(st.options) ? st.options : {});
    let optionIssues = 0;
    for (const i of validateSchema(plugin.schema, opts, ['stages', index, 'options'])) {
      // `${params.x}` placeholders are filled per trial (runChild params); their type is checked then.
      if (isPlaceholder(valueAt(opts, i.path.slice(3)))) continue;
      issues.push(locateIssue(i));
      optionIssues++;
    }
    if (optionIssues === 0 && typeof plugin.definition.validate === 'function') {
      try {
        for (const i of plugin.definition.validate(opts) ?? []) {
          issues.push(locateIssue({ path: ['stages', index, 'options', ...i.path], message: i.message, hint: i.hint }));
        }
      } catch (err) {
        issues.push(locateIssue({ path: ['stages', index, 'options'], message: `the ${plugin.name} plugin's validate() threw: ${(err as Error).message}` }));
      }
    }
    const pool = isPlainObject(spec.pool) ? (spec.pool as NonNullable<UserJobSpec['pool']>) : {};
    const resources = isPlainObject(st.resources) ? (st.resources as Record<string, number>) : {};
    for (const [res, n] of Object.entries(resources)) {
      const cap = res === 'gpu' ? (pool.gpus ?? 0) : Infinity;
      if (options.checkResources && n > cap) {
        issues.push(
          locateIssue({
            path: ['stages', index, 'resources', res],
            message: `needs ${n} ${res} per task but this host offers ${cap === Infinity ? 'none' : cap}`,
            hint: res === 'gpu' ? 'Pass --gpus N (or set pool.gpus) to say how many GPUs this host has.' : 'Only gpu is a known resource.',
          }),
        );
      }
    }
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
  const cycle = findCycle(userStages.filter(isStage));
  if (cycle) issues.push(locateIssue({ path: ['stages'], message: `stages need each other in a cycle: ${cycle.join(' → ')}`, hint: 'Remove one of these needs.' }));
  for (const key of matrixKeys) {
    if (!/^[A-Za-z_][\w-]*$/.test(key) || key === 'cycle') {
      issues.push(locateIssue({ path: ['matrix', key], atKey: true, message: `"${key}" cannot be a matrix key`, hint: 'Use letters, digits, _ and - (and not "cycle", which every task has).' }));
    }
  }
  const lease = isPlainObject(spec.lease) ? (spec.lease as { ttlMs?: unknown; heartbeatMs?: unknown }) : {};
  if (typeof lease.ttlMs === 'number' && typeof lease.heartbeatMs === 'number' && lease.heartbeatMs * 2 > lease.ttlMs) {
    issues.push(locateIssue({ path: ['lease', 'heartbeatMs'], message: `must be at most half of lease.ttlMs (${lease.ttlMs}); got ${lease.heartbeatMs}`, hint: 'Other runners take a runner for dead once its heartbeat has not moved for ttlMs; it must beat at least twice in that time.' }));
  }
  const cycleCount = Array.isArray(spec.cycle) ? spec.cycle.length : 1;
  if (isPlainObject(spec.matrix)) {
    for (const i of planIssues(spec.matrix, userStages.filter(isStage).map((st) => ({ id: st.id, per: Array.isArray(st.per) ? st.per : undefined })), cycleCount, spec.name)) issues.push(locateIssue(i));
  }
  if (issues.length > 0) throw configInvalid(shown, issues);

  const pool = spec.pool!;
  const cycles = Array.isArray(spec.cycle) ? spec.cycle : [spec.cycle as number];
  return Object.freeze({
    name: spec.name,
    description: spec.description,
    matrix: deepFreeze((spec.matrix ?? {}) as Record<string, Scalar[]>),
    cycles: deepFreeze(cycles),
    pool: Object.freeze({
      threads: pool.threads ?? availableParallelism(),
      gpus: pool.gpus ?? 0,
      isolation: pool.isolation ?? 'thread',
      maxOldGenerationSizeMb: pool.maxOldGenerationSizeMb,
    }),
    runDir: resolve(projectRoot, process.env.RUNNER_RUNS_DIR ?? spec.runsDir!, spec.name),
    dataDir: resolve(projectRoot, spec.dataDir!),
    checkpoints: deepFreeze(spec.checkpoints as ResolvedJobSpec['checkpoints']),
    lease: deepFreeze(spec.lease as ResolvedJobSpec['lease']),
    cancel: deepFreeze(spec.cancel as ResolvedJobSpec['cancel']),
    stages: Object.freeze(stages),
    source: Object.freeze({ specPath: absSpec, projectConfigPath: project?.filepath, projectRoot, overrides: options.set ?? [] }),
  }) as ResolvedJobSpec;
}

async function findPlugin(
  ref: string,
  loaded: Map<string, LoadedPlugin>,
  baseDir: string,
  searchDirs: string[],
  report: (message: string, hint?: string) => void,
): Promise<LoadedPlugin | undefined> {
  const known = loaded.get(ref);
  if (known) return known;
  const found = resolvePluginEntry(ref, baseDir, searchDirs);
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

const explorer = cosmiconfig('runner', {
  searchStrategy: 'project',
  searchPlaces: [
    'package.json',
    '.runnerrc',
    '.runnerrc.json',
    '.runnerrc.yaml',
    '.runnerrc.yml',
    '.runnerrc.js',
    '.runnerrc.mjs',
    '.runnerrc.cjs',
    'runner.config.json',
    'runner.config.yaml',
    'runner.config.yml',
    'runner.config.js',
    'runner.config.mjs',
    'runner.config.cjs',
  ],
});

/** Finds project defaults from `dir` upward, stopping at the nearest package.json. */
export async function findProjectConfig(dir: string): Promise<CosmiconfigResult> {
  try {
    return await explorer.search(dir);
  } catch (err) {
    const e = err as Error & { mark?: { line: number; column: number }; filepath?: string };
    const file = e.filepath ?? 'project config';
    throw configInvalid(file, [{ file, line: e.mark ? e.mark.line + 1 : undefined, col: e.mark ? e.mark.column + 1 : undefined, message: e.message.split('\n')[0]!, hint: 'Fix the project config file.' }]);
  }
}

function sourceOf(file: string, shown: string): SourceFile | undefined {
  const ext = extname(file);
  if (!['', '.json', '.yaml', '.yml'].includes(ext) && !file.endsWith('rc')) return undefined;
  try {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('package.json')) {
      const { source } = parseYamlText(text, shown);
      return { ...source, doc: wrapPackageJson(source) };
    }
    return parseYamlText(text, shown).source;
  } catch {
    return undefined;
  }
}

/** For package.json, config paths live under the `runner` key. */
function wrapPackageJson(source: SourceFile): SourceFile['doc'] {
  const inner = source.doc.get('runner', true);
  const doc = source.doc.clone();
  doc.contents = (inner ?? null) as typeof doc.contents;
  return doc;
}

function findPackageRoot(dir: string): string | undefined {
  let cur = dir;
  for (;;) {
    if (existsSync(resolve(cur, 'package.json'))) return cur;
    const up = dirname(cur);
    if (up === cur) return undefined;
    cur = up;
  }
}

function place(i: SchemaIssue, source: SourceFile | undefined, shown: string, displayAs: PathSegment[] = i.path): ErrorIssue {
  const loc = source ? locate(source, i.path) : undefined;
  const pos = (i.atKey ? loc?.key : undefined) ?? loc?.value;
  return { file: shown, line: pos?.line, col: pos?.col, path: formatPath(displayAs), message: i.message, hint: i.hint };
}

/** Where a merged config path came from in the project config, if it can have come from there. */
function projectPathFor(path: PathSegment[], merged: Record<string, unknown>): PathSegment[] | undefined {
  const [head] = path;
  if (typeof head === 'string' && (PROJECT_KEYS as readonly string[]).includes(head)) return path;
  if (head === 'stages' && path[2] === 'options') {
    const stage = (merged.stages as UserStage[] | undefined)?.[path[1] as number];
    if (stage) return ['pluginDefaults', stage.plugin, ...path.slice(3)];
  }
  return undefined;
}

function mergeProject(project: Record<string, unknown>, spec: Record<string, unknown>): Record<string, unknown> {
  const out = deepMerge(structuredClone(project), structuredClone(spec));
  if (Array.isArray(project.plugins) || Array.isArray(spec.plugins)) {
    out.plugins = [...new Set([...((project.plugins as string[]) ?? []), ...((spec.plugins as string[]) ?? [])])];
  }
  return out;
}

const PLACEHOLDER = /\$\{params\.([\w.-]+)\}/g;

export function isPlaceholder(v: unknown): boolean {
  return typeof v === 'string' && /\$\{params\.[\w.-]+\}/.test(v);
}

export function valueAt(obj: unknown, path: PathSegment[]): unknown {
  let cur = obj;
  for (const seg of path) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg as string] : undefined;
  return cur;
}

/**
 * Applies parameters to options (returns a new object): every `${params.NAME}` placeholder is
 * replaced by the value (a string that is only the placeholder takes the value's type), and each
 * name no placeholder uses is set as a dotted option path (`optimizer.adam.lr`,
 * `model.layers.0.dense.units`).
 */
export function applyParams(options: Record<string, unknown>, params: Record<string, unknown>): Record<string, unknown> {
  const used = new Set<string>();
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string' && v.includes('${params.')) {
      const whole = /^\$\{params\.([\w.-]+)\}$/.exec(v);
      if (whole && whole[1]! in params) {
        used.add(whole[1]!);
        return params[whole[1]!];
      }
      return v.replace(PLACEHOLDER, (m, name: string) => {
        if (!(name in params)) return m;
        used.add(name);
        return String(params[name]);
      });
    }
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !isForbiddenKey(k)).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  const out = fill(structuredClone(options)) as Record<string, unknown>;
  for (const [name, value] of Object.entries(params)) {
    if (used.has(name)) continue;
    const segs = name.split('.');
    if (segs.some(isForbiddenKey)) continue;
    let cur: Record<string, unknown> | unknown[] = out;
    for (const [i, seg] of segs.entries()) {
      const key = Array.isArray(cur) && /^\d+$/.test(seg) ? Number(seg) : seg;
      if (i === segs.length - 1) (cur as Record<string, unknown>)[key as string] = value;
      else {
        let next = (cur as Record<string, unknown>)[key as string];
        if (next === undefined || next === null || typeof next !== 'object') {
          next = /^\d+$/.test(segs[i + 1]!) ? [] : {};
          (cur as Record<string, unknown>)[key as string] = next;
        }
        cur = next as Record<string, unknown>;
      }
    }
  }
  return out;
}

/** Merges `over` into `base` (plain objects deeply, everything else replaced). */
export function deepMerge<T extends Record<string, unknown>>(base: T, over: Record<string, unknown>): T {
  for (const [k, v] of Object.entries(over)) {
    if (isForbiddenKey(k)) continue;
    const cur = (base as Record<string, unknown>)[k];
    if (isPlainObject(v) && isPlainObject(cur)) deepMerge(cur, v);
    else (base as Record<string, unknown>)[k] = isPlainObject(v) ? structuredClone(v) : v;
  }
  return base;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Applies `path=value`. Paths use dots and [n]; `stages.<id>` selects a stage by id. The value is
 * read as YAML, so numbers, booleans and lists work: `--set 'matrix.symbol=[AAPL,MSFT]'`.
 */
export function applyOverride(target: Record<string, unknown>, raw: string): Override {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw usage(`--set expects key=value (got "${raw}")`, 'For example: --set pool.threads=4 or --set stages.work.options.steps=300');
  const keyText = raw.slice(0, eq).trim();
  const valueText = raw.slice(eq + 1);
  const tokens = keyText.split(/\.|\[(\d+)\]/).filter((t) => t !== undefined && t !== '');
  const bad = tokens.find(isForbiddenKey);
  if (bad) throw usage(`--set ${keyText}: "${bad}" is not allowed as a key`, 'Keys named __proto__, constructor or prototype are never valid in a job spec.');
  const path: PathSegment[] = [];
  let cur: unknown = target;
  for (const [i, tok] of tokens.entries()) {
    let seg: PathSegment = /^\d+$/.test(tok) ? Number(tok) : tok;
    if (i === 1 && tokens[0] === 'stages' && typeof seg === 'string') {
      const stages = (target.stages as UserStage[] | undefined) ?? [];
      const idx = stages.findIndex((s) => s?.id === seg);
      if (idx < 0) throw usage(`--set ${keyText}: no stage "${seg}"`, `Stages: ${stages.map((s) => s?.id).join(', ')}.`);
      seg = idx;
    }
    path.push(seg);
    if (i < tokens.length - 1) {
      const next = (cur as Record<string, unknown>)[seg as string];
      if (next === undefined) (cur as Record<string, unknown>)[seg as string] = {};
      else if (typeof next !== 'object' || next === null) throw usage(`--set ${keyText}: ${formatPath(path)} is not a mapping`, 'Set the whole value instead.');
      cur = (cur as Record<string, unknown>)[seg as string];
    }
  }
  let value: unknown;
  try {
    value = parseYamlValue(valueText);
  } catch {
    value = valueText;
  }
  (cur as Record<string, unknown>)[path[path.length - 1] as string] = value;
  return { path, raw };
}

function setIn(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  if (path.some(isForbiddenKey)) return;
  for (const k of path.slice(0, -1)) {
    if (!isPlainObject(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function startsWith(path: readonly PathSegment[], prefix: readonly PathSegment[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => p === path[i]);
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

export function displayPath(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

export function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
