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
