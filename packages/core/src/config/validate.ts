import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import { closest } from '../errors.js';
import type { JSONSchema } from '../plugin/types.js';
import { pointerToPath, type PathSegment } from './source.js';

// ajv is CommonJS; under NodeNext its default export is the module object.
const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule) as unknown as typeof AjvModule.default;

export interface SchemaIssue {
  path: PathSegment[];
  message: string;
  hint?: string;
  /** The issue is about a key itself (unknown key), so point at the key. */
  atKey?: boolean;
}

const withDefaults = new Ajv({ allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true, verbose: true });
const plain = new Ajv({ allErrors: true, useDefaults: false, strict: false, allowUnionTypes: true, verbose: true });
const compiled = new WeakMap<object, { defaults?: ValidateFunction; plain?: ValidateFunction }>();

/** Checks that a schema compiles; returns the compiler's message if it does not. */
export function schemaProblem(schema: JSONSchema): string | undefined {
  try {
    compile(schema, false);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function compile(schema: JSONSchema, useDefaults: boolean): ValidateFunction {
  let entry = compiled.get(schema);
  if (!entry) compiled.set(schema, (entry = {}));
  const key = useDefaults ? 'defaults' : 'plain';
  return (entry[key] ??= (useDefaults ? withDefaults : plain).compile(schema));
}

/**
 * Validates `data` in place (filling defaults when asked) and returns every issue at once, each
 * with its path under `base`, a message that names the offending value, and a hint.
 */
export function validateSchema(schema: JSONSchema, data: unknown, base: PathSegment[] = [], options: { useDefaults?: boolean } = {}): SchemaIssue[] {
  const validate = compile(schema, options.useDefaults ?? true);
  if (validate(data)) return [];
  return toIssues(validate.errors ?? [], data, base);
}

function toIssues(errors: ErrorObject[], data: unknown, base: PathSegment[]): SchemaIssue[] {
  // Collapse alternatives: an anyOf/oneOf failure replaces the errors of its branches.
  const alternatives = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.schemaPath);
  const kept = errors.filter((e) => {
    if (e.keyword === 'if') return false;
    return !alternatives.some((sp) => e.schemaPath !== sp && e.schemaPath.startsWith(sp + '/'));
  });
  const seen = new Set<string>();
  const out: SchemaIssue[] = [];
  for (const e of kept) {
    const issue = toIssue(e, data, base);
    const k = JSON.stringify(issue.path) + issue.message;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(issue);
  }
  return out;
}

function toIssue(e: ErrorObject, data: unknown, base: PathSegment[]): SchemaIssue {
  const path = [...base, ...pointerToPath(e.instancePath, data)];
  const parent = (e.parentSchema ?? {}) as JSONSchema;
  const got = describeValue(e.data);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const key = String(p.missingProperty);
      const prop = ((parent.properties as Record<string, JSONSchema> | undefined) ?? {})[key];
      return { path: [...path, key], message: `missing required key "${key}"`, hint: describeSchema(prop, `Add "${key}".`) };
    }
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const allowed = Object.keys((parent.properties as object | undefined) ?? {});
      const guess = closest(key, allowed);
      return {
        path: [...path, key],
        atKey: true,
        message: `unknown key "${key}"`,
        hint: allowed.length > 0 ? `${guess ? `Did you mean "${guess}"? ` : ''}Allowed keys: ${allowed.join(', ')}.` : 'No keys are allowed here.',
      };
    }
    case 'type':
      return { path, message: `must be ${article(String(p.type).replace(/,/g, ' or '))} (got ${got})`, hint: describeSchema(parent) };
    case 'enum':
      return { path, message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${got})`, hint: describeSchema(parent) };
    case 'const':
      return { path, message: `must be ${JSON.stringify(p.allowedValue)} (got ${got})`, hint: describeSchema(parent) };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `must be ${p.comparison} ${p.limit} (got ${got})`, hint: describeSchema(parent) };
    case 'minItems':
      return { path, message: `must have at least ${p.limit} item${p.limit === 1 ? '' : 's'} (got ${got})`, hint: describeSchema(parent) };
    case 'maxItems':
      return { path, message: `must have at most ${p.limit} items (got ${got})`, hint: describeSchema(parent) };
    case 'uniqueItems':
      return { path, message: `must not repeat values (items ${p.j} and ${p.i} are equal)`, hint: describeSchema(parent) };
    case 'minLength':
      return { path, message: p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters (got ${got})`, hint: describeSchema(parent) };
    case 'pattern':
      return { path, message: `must match ${p.pattern} (got ${got})`, hint: describeSchema(parent) };
    case 'anyOf':
    case 'oneOf':
      return { path, message: `has the wrong form (got ${got})`, hint: describeSchema(parent) };
    default:
      return { path, message: `${e.message ?? 'is invalid'} (got ${got})`, hint: describeSchema(parent) };
  }
}

function article(t: string): string {
  if (t === 'array') return 'a list';
  if (t === 'object') return 'a mapping';
  if (t === 'null') return 'null';
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length}`;
  if (typeof v === 'object') return 'a mapping';
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

function describeSchema(s: JSONSchema | undefined, fallback?: string): string | undefined {
  if (!s) return fallback;
  const parts: string[] = [];
  if (typeof s.description === 'string') parts.push(s.description);
  if (s.default !== undefined && typeof s.default !== 'object') parts.push(`Default: ${JSON.stringify(s.default)}.`);
  return parts.length > 0 ? parts.join(' ') : fallback;
}
