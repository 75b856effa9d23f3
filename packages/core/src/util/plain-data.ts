/**
 * Where a value holds a BigInt, as a path like `result.stats[2].n`. msgpack and structuredClone
 * accept BigInt, JSON does not: a BigInt that got into the store or the event log would break
 * `runner tasks --json` and the log for good, so it is stopped where it enters.
 */
export function bigIntPath(v: unknown, path: string, seen = new Set<object>()): string | undefined {
  if (typeof v === 'bigint') return path;
  if (typeof v !== 'object' || v === null || seen.has(v) || ArrayBuffer.isView(v)) return undefined;
  seen.add(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = bigIntPath(v[i], `${path}[${i}]`, seen);
      if (p) return p;
    }
  } else if (v instanceof Map) {
    for (const [k, x] of v) {
      const p = bigIntPath(x, `${path}.get(${JSON.stringify(String(k))})`, seen) ?? (typeof k === 'bigint' ? `${path} (a key)` : undefined);
      if (p) return p;
    }
  } else if (v instanceof Set) {
    for (const x of v) {
      const p = bigIntPath(x, `${path} (a member)`, seen);
      if (p) return p;
    }
  } else {
    for (const k of Object.keys(v)) {
      const p = bigIntPath((v as Record<string, unknown>)[k], /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, seen);
      if (p) return p;
    }
  }
  return undefined;
}

/** JSON.stringify that writes a BigInt as its decimal string instead of throwing. */
export function jsonReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
