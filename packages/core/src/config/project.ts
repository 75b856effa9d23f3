/** Project defaults: found with cosmiconfig from the spec's directory up to the nearest package.json. */
import { cosmiconfig, type CosmiconfigResult } from 'cosmiconfig';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { configInvalid } from '../errors.js';
import { deepMerge } from '../util/object.js';
import { parseYamlText, type SourceFile } from './source.js';

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

/** The project config's text with positions, for messages; undefined for JavaScript configs. */
export function sourceOf(file: string, shown: string): SourceFile | undefined {
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

export function findPackageRoot(dir: string): string | undefined {
  let cur = dir;
  for (;;) {
    if (existsSync(resolve(cur, 'package.json'))) return cur;
    const up = dirname(cur);
    if (up === cur) return undefined;
    cur = up;
  }
}

/** Project defaults < spec; `plugins` lists are joined rather than replaced. */
export function mergeProject(project: Record<string, unknown>, spec: Record<string, unknown>): Record<string, unknown> {
  const out = deepMerge(structuredClone(project), structuredClone(spec));
  if (Array.isArray(project.plugins) || Array.isArray(spec.plugins)) {
    out.plugins = [...new Set([...((project.plugins as string[]) ?? []), ...((spec.plugins as string[]) ?? [])])];
  }
  return out;
}
