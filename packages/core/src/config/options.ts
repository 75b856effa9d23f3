/**
 * A stage's options, resolved in one place for the loader (`loadJobSpec`), child tasks
 * (`ctx.runChild`) and the test kit (`runPlugin`): layers merged, parameters filled, the plugin's
 * schema defaults applied and every issue returned.
 */
import type { JSONSchema } from '../plugin/types.js';
import { deepMerge, isForbiddenKey, isPlainObject, valueAt } from '../util/object.js';
import type { PathSegment } from './source.js';
import { validateSchema, type SchemaIssue } from './validate.js';

export interface ResolveOptionsInput {
  /** The plugin's options schema: validates and fills defaults. */
  schema: JSONSchema;
  /**
   * Option layers, lowest first (e.g. `pluginDefaults`, then the stage's options, then a child's
   * overrides). A layer that is not a plain object counts as empty; none is changed.
   */
  layers: readonly unknown[];
  /** Parameters to fill in (`applyParams`); without them `${params.x}` placeholders stay. */
  params?: Record<string, unknown>;
  /**
   * Let a value that still holds a `${params.x}` placeholder pass the schema: it is filled per
   * trial, and its type is checked then. @default false
   */
  allowPlaceholders?: boolean;
  /** The config path the options sit at, which issues' paths start with. @default [] */
  base?: PathSegment[];
}

export interface ResolvedOptions {
  /** A fresh, mutable object (freeze it where it is kept). */
  options: Record<string, unknown>;
  /** Every schema issue, with its path under `base`. */
  issues: SchemaIssue[];
}

/** Merges, fills and validates a stage's options; see {@link ResolveOptionsInput}. */
export function resolveStageOptions(input: ResolveOptionsInput): ResolvedOptions {
  const base = input.base ?? [];
  const [first, ...rest] = input.layers;
  let options = structuredClone(isPlainObject(first) ? first : {});
  for (const layer of rest) deepMerge(options, isPlainObject(layer) ? layer : {});
  if (input.params) options = applyParams(options, input.params);
  let issues = validateSchema(input.schema, options, base);
  if (input.allowPlaceholders) issues = issues.filter((i) => !isPlaceholder(valueAt(options, i.path.slice(base.length))));
  return { options, issues };
}

const PLACEHOLDER = /\$\{params\.([\w.-]+)\}/g;

export function isPlaceholder(v: unknown): boolean {
  return typeof v === 'string' && /\$\{params\.[\w.-]+\}/.test(v);
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
