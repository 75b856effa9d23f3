import type { LoadedPlugin } from '../plugin/load.js';
import type { JSONSchema } from '../plugin/types.js';
import { coreSchema, stageSchema } from './schema.js';

/**
 * The job-spec schema for editors: the core schema, with each stage's `options` typed by its
 * plugin (`if plugin == X then options: X's schema`).
 */
export function buildEditorSchema(plugins: LoadedPlugin[]): JSONSchema {
  const sorted = [...plugins].sort((a, b) => a.name.localeCompare(b.name));
  const stage: JSONSchema = {
    ...stageSchema,
    properties: {
      ...(stageSchema.properties as object),
      plugin: {
        ...((stageSchema.properties as Record<string, JSONSchema>).plugin as object),
        examples: sorted.map((p) => p.name),
      },
    },
    allOf: sorted.map((p) => ({
      if: { properties: { plugin: { const: p.name } }, required: ['plugin'] },
      then: { properties: { options: { ...p.schema, description: `Options of the ${p.name} plugin (${p.version}). ${p.description ?? ''}`.trim() } } },
    })),
  };
  return {
    ...coreSchema,
    properties: {
      ...(coreSchema.properties as object),
      stages: { ...((coreSchema.properties as Record<string, JSONSchema>).stages as object), items: stage },
    },
  };
}

/**
 * The schema's text: core plus the built-in plugins that are installed, plus, given a job spec,
 * the plugins it lists under `plugins:` and names in stages (custom ones too). The spec is read
 * leniently, so that a spec being written still gets its plugins' options.
 */
export async function editorSchemaText(specPath?: string): Promise<string> {
  const { BUILTIN_PLUGINS, loadPluginModule, resolvePluginEntry } = await import('../plugin/load.js');
  const { dirname, resolve } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const here = dirname(fileURLToPath(import.meta.url));
  const refs: { ref: string; base: string }[] = BUILTIN_PLUGINS.map((ref) => ({ ref, base: here }));
  if (specPath) {
    const base = dirname(resolve(specPath));
    for (const ref of await pluginRefsOf(specPath)) refs.push({ ref, base });
  }
  const byName = new Map<string, LoadedPlugin>();
  for (const { ref, base } of refs) {
    const r = resolvePluginEntry(ref, base, [base, here, process.cwd()]);
    if (!r) continue;
    const p = await loadPluginModule(r.entry, r.source);
    byName.set(p.name, p);
  }
  return JSON.stringify(buildEditorSchema([...byName.values()]), null, 2) + '\n';
}

/** `plugins:` entries and stages' `plugin:` values of a spec, without validating it. */
async function pluginRefsOf(specPath: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const { parse } = await import('yaml');
  const { configNotFound } = await import('../errors.js');
  let text: string;
  try {
    text = await readFile(specPath, 'utf8');
  } catch {
    throw configNotFound(specPath);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return [];
  }
  const spec = (doc ?? {}) as { plugins?: unknown; stages?: unknown };
  const refs = Array.isArray(spec.plugins) ? spec.plugins.filter((p): p is string => typeof p === 'string') : [];
  if (Array.isArray(spec.stages)) for (const st of spec.stages) if (typeof st?.plugin === 'string') refs.push(st.plugin);
  return [...new Set(refs)];
}
