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

/** The checked-in schema file's text: core plus the built-in plugins that are installed. */
export async function editorSchemaText(): Promise<string> {
  const { BUILTIN_PLUGINS, loadPluginModule, resolvePluginEntry } = await import('../plugin/load.js');
  const { dirname } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const here = dirname(fileURLToPath(import.meta.url));
  const plugins: LoadedPlugin[] = [];
  for (const name of BUILTIN_PLUGINS) {
    const r = resolvePluginEntry(name, here, [here, process.cwd()]);
    if (r) plugins.push(await loadPluginModule(r.entry, r.source));
  }
  return JSON.stringify(buildEditorSchema(plugins), null, 2) + '\n';
}
