/**
 * General helpers on plain data: merging, freezing and walking paths. They know nothing of job
 * specs, so worker threads can use them without loading the config loader.
 */

/** Keys no merge may write: they reach `Object.prototype` instead of the object. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isForbiddenKey(k: string): boolean {
  return FORBIDDEN_KEYS.has(k);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merges `over` into `base` (plain objects deeply, everything else replaced). */
export function deepMerge<T extends Record<string, unknown>>(base: T, over: Record<string, unknown>): T {
  for (const [k, v] of Object.entries(over)) {
    if (isForbiddenKey(k)) continue;
    const cur = (base as Record<string, unknown>)[k];
    if (isPlainObject(v) && isPlainObject(cur)) deepMerge(cur, v);
    else (base as Record<string, unknown>)[k] = isPlainObject(v) ? structuredClone(v) : v;
  }
  return base;
}

export function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** The value at `path` (keys and array indexes), or undefined where the path leaves the data. */
export function valueAt(obj: unknown, path: readonly (string | number)[]): unknown {
  let cur = obj;
  for (const seg of path) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg as string] : undefined;
  return cur;
}

/** Sets `path` in `obj`, creating plain objects on the way; a path through a forbidden key is ignored. */
export function setIn(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  if (path.some(isForbiddenKey)) return;
  for (const k of path.slice(0, -1)) {
    if (!isPlainObject(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

export function startsWith<T>(path: readonly T[], prefix: readonly T[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => p === path[i]);
}
