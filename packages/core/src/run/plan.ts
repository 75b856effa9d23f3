import { createHash } from 'node:crypto';
import type { ResolvedJobSpec, ResolvedStage } from '../config/types.js';
import type { Cell, Scalar } from '../plugin/types.js';
import { majorOf, type LoadedPlugin } from '../plugin/load.js';
import type { PlannedTaskInput } from '../store/lmdb-store.js';

export interface PlannedTask extends PlannedTaskInput {
  /** Position in plan order (stage order, then cells in matrix order). */
  index: number;
  stageDef: ResolvedStage;
  /** For each needed stage: the upstream task ids, and whether the stage fans in (many tasks). */
  upstream: { stage: string; ids: string[]; fanIn: boolean }[];
}

export interface Plan {
  tasks: PlannedTask[];
  byId: Map<string, PlannedTask>;
  /** task id → ids of tasks that need it. */
  dependents: Map<string, string[]>;
  /** Changes whenever any task id, dependency, fingerprint or target changes. */
  digest: string;
}

/**
 * Expands matrix × cycles × stages into tasks with stable ids, e.g.
 * `work/symbol=AAPL/horizon=1/cycle=2`. A task needs, from each stage it needs, the tasks of
 * the same cycle that agree with its cell on the keys both stages run over.
 */
export function planRun(spec: ResolvedJobSpec): Plan {
  const tasks: PlannedTask[] = [];
  const byId = new Map<string, PlannedTask>();
  const stageFp = new Map<string, { fingerprint: string; targets: string }>();
  for (const st of spec.stages) stageFp.set(st.id, stageFingerprint(st));

  // Cells and their id prefixes are the same in every cycle.
  const stageCells = spec.stages.map((st) => cellsOf(spec.matrix, st.per).map((cell) => ({ cell, prefix: idPrefix(st.id, cell) })));
  for (const cycle of spec.cycles) {
    for (const [si, st] of spec.stages.entries()) {
      for (const { cell, prefix } of stageCells[si]!) {
        const id = `${prefix}/cycle=${cycle}`;
        const fp = stageFp.get(st.id)!;
        const t: PlannedTask = {
          id,
          stage: st.id,
          plugin: st.plugin.name,
          cell,
          cycle,
          needs: [],
          fingerprint: fp.fingerprint,
          targets: fp.targets,
          pluginVersion: st.plugin.version,
          index: tasks.length,
          stageDef: st,
          upstream: [],
        };
        tasks.push(t);
        byId.set(id, t);
      }
    }
  }
  // Resolve needs once every stage's tasks exist (needs may point at later stages in the list).
  const stageById = new Map(spec.stages.map((s) => [s.id, s]));
  const projections = new Map<string, Map<string, string[]>>();
  const projectionOf = (stage: ResolvedStage, cycle: number, keys: string[]): Map<string, string[]> => {
    const k = `${stage.id}@${cycle}|${keys.join(',')}`;
    let m = projections.get(k);
    if (!m) {
      m = new Map();
      for (const t of tasks) {
        if (t.stage !== stage.id || t.cycle !== cycle) continue;
        const pk = projectionKey(t.cell, keys);
        const list = m.get(pk);
        if (list) list.push(t.id);
        else m.set(pk, [t.id]);
      }
      projections.set(k, m);
    }
    return m;
  };
  const dependents = new Map<string, string[]>();
  for (const t of tasks) {
    for (const need of t.stageDef.needs) {
      const ns = stageById.get(need)!;
      const common = t.stageDef.per.filter((k) => ns.per.includes(k));
      const ids = projectionOf(ns, t.cycle, common).get(projectionKey(t.cell, common)) ?? [];
      const fanIn = ns.per.some((k) => !t.stageDef.per.includes(k));
      t.upstream.push({ stage: need, ids, fanIn });
      for (const u of ids) {
        t.needs.push(u);
        const d = dependents.get(u);
        if (d) d.push(t.id);
        else dependents.set(u, [t.id]);
      }
    }
  }
  // Ids and needs follow from the matrix, cycles and stages, so hashing those covers every task.
  const digest = hashValue({
    matrix: spec.matrix,
    cycles: spec.cycles,
    stages: spec.stages.map((st) => ({ id: st.id, per: st.per, needs: st.needs, version: st.plugin.version, ...stageFp.get(st.id) })),
  });
  return { tasks, byId, dependents, digest };
}

export function cellsOf(matrix: Readonly<Record<string, readonly Scalar[]>>, keys: readonly string[]): Cell[] {
  let cells: Record<string, Scalar>[] = [{}];
  for (const key of Object.keys(matrix)) {
    if (!keys.includes(key)) continue;
    const next: Record<string, Scalar>[] = [];
    for (const c of cells) for (const v of matrix[key]!) next.push({ ...c, [key]: v });
    cells = next;
  }
  return cells.map((c) => Object.freeze(c));
}

export function taskId(stage: string, cell: Cell, cycle: number): string {
  return `${idPrefix(stage, cell)}/cycle=${cycle}`;
}

function idPrefix(stage: string, cell: Cell): string {
  const parts = [stage];
  for (const [k, v] of Object.entries(cell)) parts.push(`${k}=${encodeIdPart(String(v))}`);
  return parts.join('/');
}

/** Keeps ids readable while making `/`, `=`, `*`, `?`, `%` and whitespace unambiguous. */
export function encodeIdPart(s: string): string {
  return s.replace(/[/%=*?\s\\]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

function projectionKey(cell: Cell, keys: readonly string[]): string {
  return keys.map((k) => `${k}=${String(cell[k])}`).join('\u0000');
}

/** The stages' options and fingerprints as the store keeps them for `runner plan` to diff against. */
export function stageSnapshot(spec: ResolvedJobSpec): Record<string, { plugin: string; options: unknown; fingerprint: string; targets: string }> {
  const out: Record<string, { plugin: string; options: unknown; fingerprint: string; targets: string }> = {};
  for (const s of spec.stages) out[s.id] = { plugin: s.plugin.name, options: structuredClone(s.options), ...stageFingerprint(s) };
  return out;
}

/**
 * A stage's fingerprint hashes its plugin (name and major version) and its resolved options,
 * except those the plugin marks resume-safe, which go into `targets` instead.
 */
export function stageFingerprint(stage: ResolvedStage): { fingerprint: string; targets: string } {
  return optionsFingerprint(stage.plugin, stage.options);
}

export function optionsFingerprint(
  plugin: Pick<LoadedPlugin, 'name' | 'version' | 'resumeSafe' | 'operational'>,
  options: Readonly<Record<string, unknown>>,
): { fingerprint: string; targets: string } {
  const { kept: results } = splitPaths(options, plugin.operational);
  const { kept, removed } = splitPaths(results as Record<string, unknown>, plugin.resumeSafe);
  return {
    fingerprint: hashValue({ plugin: plugin.name, major: majorOf(plugin.version), options: kept }),
    targets: hashValue(removed),
  };
}

function splitPaths(options: Readonly<Record<string, unknown>>, paths: readonly string[]): { kept: unknown; removed: Record<string, unknown> } {
  const kept = structuredClone(options) as Record<string, unknown>;
  const removed: Record<string, unknown> = {};
  for (const p of paths) {
    const segs = p.split('.');
    let cur: unknown = kept;
    for (const s of segs.slice(0, -1)) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[s] : undefined;
    const last = segs[segs.length - 1]!;
    if (cur && typeof cur === 'object' && last in (cur as object)) {
      removed[p] = (cur as Record<string, unknown>)[last];
      delete (cur as Record<string, unknown>)[last];
    }
  }
  return { kept, removed };
}

export function hashValue(v: unknown): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 24);
}

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Matches task ids against a pattern where `*` matches anything (including `/`). */
export function idMatcher(pattern: string): (id: string) => boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return (id) => id === pattern || id.startsWith(pattern.endsWith('/') ? pattern : pattern + '/');
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\\\?/g, '.')).join('.*') + '$');
  return (id) => re.test(id);
}
