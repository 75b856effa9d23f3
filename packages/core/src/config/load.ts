import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parse as parseYamlValue } from 'yaml';
import { configInvalid, RunnerError, usage, type ErrorIssue } from '../errors.js';
import type { Scalar } from '../plugin/types.js';
import { deepFreeze, isForbiddenKey as isForbidden, setIn, startsWith } from '../util/object.js';
import { sanitizeConfig } from './guards.js';
import { findPackageRoot, findProjectConfig, mergeProject, sourceOf } from './project.js';
import { coreSchema, projectSchema, PROJECT_KEYS } from './schema.js';
import { formatPath, locate, readYamlFile, type PathSegment, type SourceFile } from './source.js';
import { checkWholeSpec, loadListedPlugins, resolveStages, type StageContext } from './stages.js';
import type { ResolvedJobSpec, ResolvedStage, UserJobSpec, UserStage } from './types.js';
import { validateSchema, type SchemaIssue } from './validate.js';

// General helpers used to live here; these names stay importable from this module.
export { deepMerge, deepFreeze, valueAt } from '../util/object.js';
export { applyParams, isPlaceholder } from './options.js';
export { findProjectConfig } from './project.js';

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

/** A file read for the spec: its value, its text with positions, and the name messages show. */
interface ReadFile {
  value: Record<string, unknown>;
  source: SourceFile | undefined;
  shown: string;
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
  const issues: ErrorIssue[] = [];
  const { file: spec, reported } = readSpec(absSpec, cwd, issues);
  const { file: project, projectPath, projectRoot } = await readProjectDefaults(absSpec, cwd, issues);
  const { merged, overrides } = mergeLayers(project.value, spec.value, options, issues);
  const locateIssue = issueLocator(spec, project, merged, overrides, options);

  for (const i of validateSchema(coreSchema, merged)) if (!reported.has(formatPath(i.path))) issues.push(locateIssue(i));
  const user = merged as unknown as UserJobSpec;
  const ctx: StageContext = {
    specDir: dirname(absSpec),
    searchDirs: [dirname(absSpec), projectRoot, cwd],
    checkResources: options.checkResources ?? false,
    report: (i) => issues.push(locateIssue(i)),
  };
  const plugins = await loadListedPlugins(user, ctx);
  const stages = await resolveStages(user, plugins, ctx);
  checkWholeSpec(user, ctx);
  if (issues.length > 0) throw configInvalid(spec.shown, issues);
  return resolvedSpec(user, stages, { absSpec, projectPath, projectRoot, overrides: options.set ?? [] });
}

/** Step 1: the spec file, with forbidden keys and non-finite numbers removed and reported. */
function readSpec(absSpec: string, cwd: string, issues: ErrorIssue[]): { file: ReadFile; reported: Set<string> } {
  const shown = displayPath(absSpec, cwd);
  const { value, source } = readYamlFile(absSpec, shown);
  const sanitized = sanitizeConfig(value);
  for (const i of sanitized) issues.push(place(i, source, shown));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configInvalid(shown, [{ file: shown, line: 1, col: 1, message: 'the job spec must be a mapping of keys (name, matrix, stages, ...)', hint: 'See configs/quickstart.yaml for an example.' }]);
  }
  // A value already reported as not finite needs no second message from the schema.
  const reported = new Set(sanitized.map((i) => formatPath(i.path)));
  return { file: { value: value as Record<string, unknown>, source, shown }, reported };
}

/** Step 2: project defaults (cosmiconfig), checked against the project schema without defaults. */
async function readProjectDefaults(absSpec: string, cwd: string, issues: ErrorIssue[]): Promise<{ file: ReadFile; projectPath?: string; projectRoot: string }> {
  const project = await findProjectConfig(dirname(absSpec));
  const file: ReadFile = { value: {}, source: undefined, shown: project ? displayPath(project.filepath, cwd) : '' };
  if (project && !project.isEmpty) {
    file.value = (project.config ?? {}) as Record<string, unknown>;
    file.source = sourceOf(project.filepath, file.shown);
    for (const i of sanitizeConfig(file.value)) issues.push(place(i, file.source, file.shown));
    for (const i of validateSchema(projectSchema, file.value, [], { useDefaults: false })) issues.push(place(i, file.source, file.shown));
  }
  const projectRoot = project ? dirname(project.filepath) : findPackageRoot(dirname(absSpec)) ?? dirname(absSpec);
  return { file, projectPath: project?.filepath, projectRoot };
}

/** Step 3: project defaults < spec < `--set`, then the `--threads`/`--gpus` flags. */
function mergeLayers(project: Record<string, unknown>, spec: Record<string, unknown>, options: LoadOptions, issues: ErrorIssue[]): { merged: Record<string, unknown>; overrides: Override[] } {
  const merged = mergeProject(project, spec);
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
  return { merged, overrides };
}

/** Step 4: where an issue about the merged config came from: a flag, a `--set`, the project config or the spec. */
function issueLocator(spec: ReadFile, project: ReadFile, merged: Record<string, unknown>, overrides: Override[], options: LoadOptions): (i: SchemaIssue) => ErrorIssue {
  return (i) => {
    const flag = i.path[0] === 'pool' && i.path.length === 2 && ({ threads: options.threads, gpus: options.gpus } as Record<string, number | undefined>)[i.path[1] as string];
    if (flag !== undefined && flag !== false) return { file: `--${i.path[1] as string}`, path: formatPath(i.path), message: `${i.message} (from --${i.path[1] as string} ${flag})`, hint: i.hint };
    const ov = overrides.find((o) => startsWith(i.path, o.path) || startsWith(o.path, i.path));
    if (ov) return { file: '--set', path: formatPath(i.path), message: `${i.message} (from --set ${ov.raw})`, hint: i.hint };
    const inSpec = spec.source ? locate(spec.source, i.path) : undefined;
    if (!inSpec?.exact && project.source) {
      const pp = projectPathFor(i.path, merged);
      const inProject = pp && locate(project.source, pp);
      if (inProject?.exact) return place({ ...i, path: pp! }, project.source, project.shown, i.path);
    }
    return place(i, spec.source, spec.shown);
  };
}

/** Step 5: the complete, frozen spec (called only when no issue was found). */
function resolvedSpec(spec: UserJobSpec, stages: ResolvedStage[], from: { absSpec: string; projectPath?: string; projectRoot: string; overrides: string[] }): ResolvedJobSpec {
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
    runDir: resolve(from.projectRoot, process.env.RUNNER_RUNS_DIR ?? spec.runsDir!, spec.name),
    dataDir: resolve(from.projectRoot, spec.dataDir!),
    checkpoints: deepFreeze(spec.checkpoints as ResolvedJobSpec['checkpoints']),
    lease: deepFreeze(spec.lease as ResolvedJobSpec['lease']),
    cancel: deepFreeze(spec.cancel as ResolvedJobSpec['cancel']),
    stages: Object.freeze(stages),
    source: Object.freeze({ specPath: from.absSpec, projectConfigPath: from.projectPath, projectRoot: from.projectRoot, overrides: from.overrides }),
  }) as ResolvedJobSpec;
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
  const bad = tokens.find(isForbidden);
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

export function displayPath(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}
