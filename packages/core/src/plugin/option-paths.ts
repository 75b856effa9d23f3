import type { JSONSchema } from './types.js';

/**
 * Paths of `resumeSafe` or `operational` that name no option of the schema, e.g. `"too"` for a
 * schema with `to`. A level the schema does not spell out (no `properties`: free-form maps,
 * `oneOf`) accepts any key below it.
 */
export function unknownOptionPaths(schema: JSONSchema | undefined, paths: readonly string[]): string[] {
  return paths.filter((path) => {
    let s: JSONSchema | undefined = schema;
    for (const seg of path.split('.')) {
      const props = s?.properties as Record<string, JSONSchema> | undefined;
      if (!props || typeof props !== 'object') return false;
      if (!Object.hasOwn(props, seg)) return true;
      s = props[seg];
    }
    return false;
  });
}
