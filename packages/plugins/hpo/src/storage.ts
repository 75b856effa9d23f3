import type { SessionRecord, StorageKey, StudyMeta, StudyState, StudyStorage, TrialRecord } from './types.js';

/** Keys of the storage layout, in one place. */
export const keys = {
  name: (name: string) => ['name', name] as const,
  study: (key: string) => ['study', key] as const,
  state: (key: string) => ['state', key] as const,
  trial: (key: string, n: number) => ['trial', key, n] as const,
  session: (key: string, id: string) => ['session', key, id] as const,
  /** Trials WAITING or RUNNING: what a re-opened study must look at besides its history. */
  live: (key: string, n: number) => ['live', key, n] as const,
  /** The sampler's history, appended in chunks of {@link HIST_CHUNK} finished trials. */
  hist: (key: string, chunk: number) => ['hist', key, chunk] as const,
  /** Warm-start index: `<stage>/<cell>` and cycle → study name (written by the hpo stage). */
  cell: (cell: string, cycle: number) => ['cell', cell, cycle] as const,
};

/** Finished trials per history chunk: a chunk is rewritten as trials finish, so a write stays small. */
export const HIST_CHUNK = 64;

/**
 * Finished trials in the order they finished, as the samplers see them: trial number, signed
 * score (lower is better), rank key (complete or pruned at a step) and each parameter's internal
 * value, in typed arrays of {@link HIST_CHUNK} rows.
 */
export interface HistChunk {
  n: number;
  order: Float64Array;
  score: Float64Array;
  stepKey: Float64Array;
  cols: Record<string, Float64Array>;
}

export function emptyChunk(): HistChunk {
  return { n: 0, order: new Float64Array(HIST_CHUNK), score: new Float64Array(HIST_CHUNK), stepKey: new Float64Array(HIST_CHUNK), cols: {} };
}

export function copyChunk(c: HistChunk): HistChunk {
  return { n: c.n, order: c.order.slice(), score: c.score.slice(), stepKey: c.stepKey.slice(), cols: Object.fromEntries(Object.entries(c.cols).map(([k, v]) => [k, v.slice()])) };
}

/** The pointer from a study name to its current generation. */
export interface NameRecord {
  key: string;
  generation: number;
}

type Part = string | number;

function cmpPart(a: Part, b: Part): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders keys as LMDB does for ours: element-wise, numbers before strings, prefixes first. */
export function compareKeys(a: StorageKey, b: StorageKey): number {
  const x = Array.isArray(a) ? a : [a as Part];
  const y = Array.isArray(b) ? b : [b as Part];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = cmpPart(x[i]!, y[i]!);
    if (c !== 0) return c;
  }
  return x.length - y.length;
}

/**
 * A study storage in memory: for quick scripts, tests and benchmarks. Values are copied in and
 * out, as a real store would.
 */
export function memoryStorage(): StudyStorage & { readonly size: number } {
  const map = new Map<string, { key: StorageKey; value: unknown }>();
  const id = (k: StorageKey) => JSON.stringify(k);
  const writer = {
    get: <V>(k: StorageKey) => structuredClone(map.get(id(k))?.value) as V | undefined,
    put: (k: StorageKey, v: unknown) => void map.set(id(k), { key: structuredClone(k), value: structuredClone(v) }),
    remove: (k: StorageKey) => void map.delete(id(k)),
  };
  return {
    get size() {
      return map.size;
    },
    get: writer.get,
    *range<T>(o: { start?: StorageKey; end?: StorageKey; reverse?: boolean; limit?: number } = {}) {
      let entries = [...map.values()].filter((e) => (o.start === undefined || compareKeys(e.key, o.start) >= 0) && (o.end === undefined || compareKeys(e.key, o.end) < 0));
      entries.sort((p, q) => compareKeys(p.key, q.key));
      if (o.reverse) entries = entries.reverse();
      if (o.limit !== undefined) entries = entries.slice(0, o.limit);
      for (const e of entries) yield { key: e.key, value: structuredClone(e.value) as T };
    },
    transaction: async <T>(fn: (tx: typeof writer) => T) => fn(writer),
  };
}

const HIGH = '\uffff';

/** Every stored trial of a study, in number order. */
export function readTrials(storage: StudyStorage, key: string): TrialRecord[] {
  const out: TrialRecord[] = [];
  for (const { value } of storage.range<TrialRecord>({ start: ['trial', key, -1], end: ['trial', key, HIGH] })) out.push(value);
  return out;
}

/** The history chunks of a study, in order. */
export function readHistory(storage: StudyStorage, key: string): HistChunk[] {
  const out: HistChunk[] = [];
  for (const { value } of storage.range<HistChunk>({ start: ['hist', key, -1], end: ['hist', key, HIGH] })) out.push(value);
  return out;
}

/** Numbers of the study's WAITING and RUNNING trials. */
export function readLive(storage: StudyStorage, key: string): number[] {
  const out: number[] = [];
  for (const { key: k } of storage.range({ start: ['live', key, -1], end: ['live', key, HIGH] })) out.push(Number((k as Part[])[2]));
  return out;
}

export function readSessions(storage: StudyStorage, key: string): SessionRecord[] {
  const out: SessionRecord[] = [];
  for (const { value } of storage.range<SessionRecord>({ start: ['session', key, ''], end: ['session', key, HIGH] })) out.push(value);
  return out;
}

/** Names of every study in the storage (current generation keys included). */
export function listStudyNames(storage: StudyStorage): { name: string; key: string; generation: number }[] {
  const out: { name: string; key: string; generation: number }[] = [];
  for (const { key, value } of storage.range<NameRecord>({ start: ['name', ''], end: ['name', HIGH] })) {
    out.push({ name: String((key as Part[])[1]), key: value.key, generation: value.generation });
  }
  return out;
}

export interface StoredStudy {
  meta: StudyMeta;
  state?: StudyState;
  trials: TrialRecord[];
  sessions: SessionRecord[];
}

/** Reads a study by name without opening a session (reports, exports, warm starts). */
export function readStudy(storage: StudyStorage, name: string, options: { key?: string } = {}): StoredStudy | undefined {
  const key = options.key ?? storage.get<NameRecord>(keys.name(name))?.key;
  if (key === undefined) return undefined;
  const meta = storage.get<StudyMeta>(keys.study(key));
  if (!meta) return undefined;
  return { meta, state: storage.get<StudyState>(keys.state(key)), trials: readTrials(storage, key), sessions: readSessions(storage, key) };
}
