import { createRequire } from 'node:module';
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { pluginImportStuck, pluginInvalid, pluginLoadFailed } from '../errors.js';
import { DEFAULT_IMPORT_TIMEOUT_MS, probeImport } from './import-probe.js';
import { importUserModule, moduleDefault } from './import-module.js';
import { unknownOptionPaths } from './option-paths.js';
import { schemaProblem } from '../config/validate.js';
import type { JSONSchema, PluginDefinition } from './types.js';

/** Plugins that ship with the runner, as `@runner/plugin-<name>` packages. */
export const BUILTIN_PLUGINS = ['steps', 'download', 'train', 'hpo', 'backtest', 'paper'] as const;

export interface LoadedPlugin {
  name: string;
  version: string;
  description?: string;
  /** Options schema, normalised to an object schema that rejects unknown keys by default. */
  schema: JSONSchema;
  resumeSafe: readonly string[];
  operational: readonly string[];
  /** Absolute path of the module the worker imports. */
  entry: string;
  /** How the plugin was found. */
  source: 'builtin' | 'package' | 'path';
  definition: PluginDefinition;
}

const cache = new Map<string, Promise<LoadedPlugin>>();

/** Is `ref` a path (relative, absolute or file URL) rather than a name or package? */
export function isPathRef(ref: string): boolean {
  return ref.startsWith('.') || ref.startsWith('/') || ref.startsWith('file:') || isAbsolute(ref) || /\.(m?js|cjs|m?ts|cts|tsx)$/.test(ref);
}

/**
 * Resolves a plugin reference to a module file. Paths resolve against `baseDir`; names resolve
 * as built-ins (`@runner/plugin-<name>`), then as packages, from each of `searchDirs`.
 */
export function resolvePluginEntry(ref: string, baseDir: string, searchDirs: string[]): { entry: string; source: LoadedPlugin['source'] } | undefined {
  if (isPathRef(ref)) {
    const p = ref.startsWith('file:') ? fileURLToPath(ref) : resolve(baseDir, ref);
    return existsSync(p) && statSync(p).isFile() ? { entry: p, source: 'path' } : undefined;
  }
  const candidates: [string, LoadedPlugin['source']][] = [];
  if ((BUILTIN_PLUGINS as readonly string[]).includes(ref)) candidates.push([`@runner/plugin-${ref}`, 'builtin']);
  candidates.push([ref, 'package'], [`runner-plugin-${ref}`, 'package']);
  for (const dir of uniq([...searchDirs, coreDir()])) {
    const req = createRequire(join(dir, 'noop.js'));
    for (const [spec, source] of candidates) {
      try {
        return { entry: req.resolve(spec), source };
      } catch {
        // try the next candidate
      }
    }
  }
  return undefined;
}

/** Imports a plugin module and checks its shape. Results are cached per module file. */
export function loadPluginModule(entry: string, source: LoadedPlugin['source']): Promise<LoadedPlugin> {
  let p = cache.get(entry);
  if (!p) {
    p = importPlugin(entry, source);
    cache.set(entry, p);
    p.catch(() => cache.delete(entry));
  }
  return p;
}

async function importPlugin(entry: string, source: LoadedPlugin['source']): Promise<LoadedPlugin> {
  let mod: Record<string, unknown>;
  // Only the runner's own main thread probes: workers and task processes import what it loaded.
  if (source !== 'builtin' && isMainThread && !process.send) {
    const why = await probeImport(entry);
    if (why) throw pluginImportStuck(entry, why, DEFAULT_IMPORT_TIMEOUT_MS);
  }
  try {
    mod = await importUserModule(entry);
  } catch (err) {
    throw pluginLoadFailed(entry, err);
  }
  const def = moduleDefault(mod) as Partial<PluginDefinition>;
  return checkDefinition(def, entry, source);
}

export function checkDefinition(def: Partial<PluginDefinition>, entry: string, source: LoadedPlugin['source']): LoadedPlugin {
  const problems: string[] = [];
  if (typeof def !== 'object' || def === null) throw pluginInvalid(entry, 'the module has no default export');
  if (typeof def.name !== 'string' || !/^[A-Za-z][\w.-]*$/.test(def.name)) problems.push('`name` must be a string like "my-plugin"');
  if (typeof def.version !== 'string' || !/^\d+\.\d+\.\d+/.test(def.version)) problems.push('`version` must be semver, e.g. "1.0.0"');
  if (typeof def.run !== 'function') problems.push('`run(ctx)` must be a function');
  if (def.schema !== undefined && (typeof def.schema !== 'object' || def.schema === null)) problems.push('`schema` must be a JSON schema object');
  if (def.resumeSafe !== undefined && !Array.isArray(def.resumeSafe)) problems.push('`resumeSafe` must be a list of option paths');
  if (def.operational !== undefined && !Array.isArray(def.operational)) problems.push('`operational` must be a list of option paths');
  for (const key of ['resumeSafe', 'operational'] as const) {
    const bad = Array.isArray(def[key]) ? unknownOptionPaths(def.schema, def[key]) : [];
    if (bad.length > 0) problems.push(`\`${key}\` names ${bad.map((p) => `"${p}"`).join(', ')}, which ${bad.length === 1 ? 'is not an option' : 'are not options'} of its schema`);
  }
  const schema = normaliseSchema(def.schema);
  const bad = schemaProblem(schema);
  if (bad) problems.push(`its schema does not compile: ${bad}`);
  if (problems.length > 0) throw pluginInvalid(entry, problems.join('; '));
  return {
    name: def.name!,
    version: def.version!,
    description: def.description,
    schema,
    resumeSafe: def.resumeSafe ?? [],
    operational: def.operational ?? [],
    entry,
    source,
    definition: def as PluginDefinition,
  };
}

function normaliseSchema(schema: JSONSchema | undefined): JSONSchema {
  if (!schema) return { type: 'object', additionalProperties: true };
  const s: JSONSchema = { type: 'object', ...schema };
  if (s.additionalProperties === undefined && s.properties !== undefined) s.additionalProperties = false;
  return s;
}

export function majorOf(version: string): string {
  return version.split('.')[0] ?? version;
}

function coreDir(): string {
  return dirname(fileURLToPath(import.meta.url));
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
