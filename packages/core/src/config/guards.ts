/**
 * Checks on a job spec that its schema cannot express: keys that would write through an
 * object's prototype, numbers that are not finite, matrix values that collide once encoded in
 * task ids, plans too large to expand, and names too long for the filesystem or LMDB's keys.
 */
import { encodeIdPart } from '../run/plan.js';
import type { PathSegment } from './source.js';
import type { SchemaIssue } from './validate.js';

import { isForbiddenKey } from '../util/object.js';

export { FORBIDDEN_KEYS, isForbiddenKey } from '../util/object.js';

/**
 * Reports (and removes) forbidden keys and non-finite numbers anywhere in a parsed config. The
 * YAML parser keeps `__proto__` as an own key; removing it here means no later merge sees it.
 */
export function sanitizeConfig(value: unknown, path: PathSegment[] = [], out: SchemaIssue[] = []): SchemaIssue[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => sanitizeConfig(v, [...path, i], out));
  } else if (value && typeof value === 'object') {
    for (const k of Object.keys(value)) {
      if (isForbiddenKey(k)) {
        out.push({ path: [...path, k], atKey: true, message: `"${k}" is not allowed as a key`, hint: 'Remove it: keys named __proto__, constructor or prototype are never valid in a job spec.' });
        delete (value as Record<string, unknown>)[k];
        continue;
      }
      sanitizeConfig((value as Record<string, unknown>)[k], [...path, k], out);
    }
  } else if (typeof value === 'number' && !Number.isFinite(value)) {
    out.push({ path, message: `must be a finite number (got ${String(value)})`, hint: 'Write a number; .inf and .nan are not accepted. Durations have a maximum of 2147483647 ms (about 24.8 days).' });
  }
  return out;
}

/** Largest plan `runner` expands unless RUNNER_MAX_TASKS says otherwise. */
export const DEFAULT_MAX_TASKS = 1_000_000;
/** LMDB's largest key is 1978 bytes; checkpoint keys add the sequence number, child ids a key. */
export const MAX_TASK_ID_BYTES = 1500;
/** One path component (a run name, a `key=value` directory of a task). */
export const MAX_NAME_BYTES = 255;

export function maxTasks(): number {
  const v = Number(process.env.RUNNER_MAX_TASKS);
  return Number.isInteger(v) && v > 0 ? v : DEFAULT_MAX_TASKS;
}

interface StageShape {
  id: string;
  per?: string[];
}

/**
 * Counts tasks without expanding the plan: per stage, the product of its `per` keys' value counts
 * times the cycles. Also checks that matrix values stay distinct once encoded in ids, and that
 * names fit the filesystem and LMDB's key size.
 */
export function planIssues(matrix: Record<string, unknown>, stages: StageShape[], cycles: number, name: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const keys = Object.keys(matrix).filter((k) => Array.isArray(matrix[k]));
  const longest = new Map<string, number>();
  for (const key of keys) {
    const seen = new Map<string, number>();
    let max = 0;
    (matrix[key] as unknown[]).forEach((v, i) => {
      const enc = encodeIdPart(String(v));
      const prev = seen.get(enc);
      if (prev !== undefined) {
        const other = (matrix[key] as unknown[])[prev];
        issues.push({
          path: ['matrix', key, i],
          message: `${JSON.stringify(v)} and ${JSON.stringify(other)} (matrix.${key}[${prev}]) give the same task id "${key}=${enc}"`,
          hint: 'Task ids hold values as text, so 1 and "1" (or true and "true") are one task. Keep one of them, or make them differ as text.',
        });
      } else seen.set(enc, i);
      const part = Buffer.byteLength(`${key}=${enc}`);
      if (part > MAX_NAME_BYTES) {
        issues.push({ path: ['matrix', key, i], message: `the value is too long for a task id: "${key}=${enc.slice(0, 40)}…" is ${part} bytes (at most ${MAX_NAME_BYTES})`, hint: 'Each key=value becomes a directory name under artifacts/; use a shorter value (e.g. a name that points at the long one in a file).' });
      }
      max = Math.max(max, part);
    });
    longest.set(key, max);
  }
  if (typeof name === 'string' && Buffer.byteLength(name) > MAX_NAME_BYTES) {
    issues.push({ path: ['name'], message: `the run name is ${Buffer.byteLength(name)} bytes; it names a directory, so at most ${MAX_NAME_BYTES}`, hint: 'Use a shorter name.' });
  }
  let total = 0;
  const parts: string[] = [];
  for (const [index, st] of stages.entries()) {
    const per = (st.per ?? keys).filter((k) => keys.includes(k));
    let n = cycles;
    for (const k of per) n *= (matrix[k] as unknown[]).length;
    total += n;
    parts.push(`${st.id}: ${[...per.map((k) => String((matrix[k] as unknown[]).length)), `${cycles} cycle${cycles === 1 ? '' : 's'}`].join(' × ')}`);
    const idBytes = Buffer.byteLength(st.id) + per.reduce((a, k) => a + 1 + (longest.get(k) ?? 0), 0) + '/cycle=999999'.length;
    if (idBytes > MAX_TASK_ID_BYTES) {
      issues.push({ path: ['stages', index, 'id'], message: `task ids of stage "${st.id}" reach ${idBytes} bytes; the store's keys hold at most ${MAX_TASK_ID_BYTES}`, hint: 'Shorten the longest matrix values (or fewer per keys for this stage).' });
    }
  }
  const limit = maxTasks();
  if (total > limit) {
    issues.push({
      path: ['matrix'],
      message: `the plan has ${total.toLocaleString('en-US')} tasks (${parts.join('; ')}); the limit is ${limit.toLocaleString('en-US')}`,
      hint: `Shrink the matrix or give stages fewer per keys. To run it anyway, raise the limit: RUNNER_MAX_TASKS=${Math.min(Number.MAX_SAFE_INTEGER, total)} (each task costs about 2 KB of memory while planning).`,
    });
  }
  return issues;
}
