import type { JSONSchema } from './types.js';

/**
 * Paths of `resumeSafe` or `operational` that name no option of the schema, e.g. `"too"` for a
 * schema with `to`. A level the schema does not spell out (no `properties`: free-form maps,
 * `oneOf`) accepts any key below it.
 */
export function unknownOptionPaths(schema: JSONSchema | undefined, paths: readonly string[]): string[] {
  return paths.filter((path) => !knows(schema, path.split('.')));
}

/** The schemas that may apply at one level: its own, and those of its variants (`if/then/else`, `allOf`, `anyOf`, `oneOf`). */
function variants(s: JSONSchema): JSONSchema[] {
  const out: JSONSchema[] = [s];
  for (const k of ['then', 'else'] as const) if (s[k] && typeof s[k] === 'object') out.push(...variants(s[k] as JSONSchema));
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) for (const v of (s[k] as JSONSchema[] | undefined) ?? []) if (v && typeof v === 'object') out.push(...variants(v));
  return out;
}

function knows(schema: JSONSchema | undefined, segs: string[]): boolean {
  if (!schema || segs.length === 0) return true;
  const all = variants(schema);
  const spelled = all.filter((v) => v.properties && typeof v.properties === 'object');
  // A level no variant spells out (a free-form map) accepts any key below it.
  if (spelled.length === 0) return true;
  return spelled.some((v) => {
    const props = v.properties as Record<string, JSONSchema>;
    return Object.hasOwn(props, segs[0]!) && knows(props[segs[0]!], segs.slice(1));
  });
}
