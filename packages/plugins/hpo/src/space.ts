/**
 * Parameter distributions and search spaces: what a parameter may take, how it is written in a
 * job spec (`lr: { float: [1e-4, 1e-1], log: true }`), how it is checked, and how values move
 * between the user's representation and the samplers' (numbers; a choice's index).
 */
import { createHash } from 'node:crypto';

export type Choice = string | number | boolean | null;
export type ParamValue = number | string | boolean | null;

export interface FloatDistribution {
  type: 'float';
  low: number;
  high: number;
  log: boolean;
  /** Values are `low + k·step`. */
  step?: number;
}

export interface IntDistribution {
  type: 'int';
  low: number;
  high: number;
  log: boolean;
  step: number;
}

export interface CategoricalDistribution {
  type: 'categorical';
  choices: readonly Choice[];
}

export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;

/** A search space: parameter name → distribution. */
export type Space = Record<string, Distribution>;

/** How a parameter is written in a job spec. */
export interface ParamConfig {
  float?: [number, number];
  int?: [number, number];
  choice?: Choice[];
  log?: boolean;
  step?: number;
}

export type SpaceConfig = Record<string, ParamConfig>;

/** A problem with a space, at a path relative to the space (`['lr', 'float']`). */
export interface SpaceIssue {
  path: (string | number)[];
  message: string;
  hint?: string;
}

export function describeDistribution(d: Distribution): string {
  if (d.type === 'categorical') return `choice of ${d.choices.map((c) => JSON.stringify(c)).join(', ')}`;
  const extra = [d.log ? 'log' : '', d.step !== undefined && !(d.type === 'int' && d.step === 1) ? `step ${d.step}` : ''].filter(Boolean).join(', ');
  return `${d.type} [${d.low}, ${d.high}]${extra ? ` (${extra})` : ''}`;
}

/**
 * Everything wrong with one distribution. JSON schema catches most of this at config time;
 * what it cannot express (low above high, a log range reaching zero, log with a step) is checked here.
 */
export function distributionIssues(d: Distribution, at: (string | number)[] = []): SpaceIssue[] {
  const out: SpaceIssue[] = [];
  if (d.type === 'categorical') {
    if (!Array.isArray(d.choices) || d.choices.length === 0) {
      out.push({ path: at, message: 'has no choices', hint: 'List at least one value, e.g. choice: [relu, tanh].' });
      return out;
    }
    const seen = new Set<string>();
    for (const [i, c] of d.choices.entries()) {
      if (c !== null && !['string', 'number', 'boolean'].includes(typeof c)) {
        out.push({ path: [...at, i], message: `must be a string, number, boolean or null (got ${typeof c})` });
      } else if (typeof c === 'number' && !Number.isFinite(c)) {
        out.push({ path: [...at, i], message: `must be a finite number (got ${c})` });
      }
      const k = JSON.stringify(c);
      if (seen.has(k)) out.push({ path: [...at, i], message: `repeats the choice ${k}`, hint: 'Each choice may appear once.' });
      seen.add(k);
    }
    return out;
  }
  const { low, high } = d;
  if (typeof low !== 'number' || !Number.isFinite(low)) out.push({ path: [...at, 0], message: `low must be a finite number (got ${String(low)})` });
  if (typeof high !== 'number' || !Number.isFinite(high)) out.push({ path: [...at, 1], message: `high must be a finite number (got ${String(high)})` });
  if (out.length > 0) return out;
  if (low > high) {
    out.push({ path: at, message: `low ${low} is above high ${high}`, hint: `Write [low, high] with low ≤ high, e.g. [${high}, ${low}].` });
  }
  if (d.type === 'int') {
    if (!Number.isInteger(low)) out.push({ path: [...at, 0], message: `low must be an integer (got ${low})`, hint: 'Use float: for real-valued parameters.' });
    if (!Number.isInteger(high)) out.push({ path: [...at, 1], message: `high must be an integer (got ${high})`, hint: 'Use float: for real-valued parameters.' });
    if (!Number.isInteger(d.step) || d.step < 1) out.push({ path: [...at.slice(0, -1), 'step'], message: `step must be a positive integer (got ${d.step})` });
    if (d.log && low < 1) {
      out.push({ path: [...at, 0], message: `a log-scaled int needs low ≥ 1 (got ${low})`, hint: 'Log scale needs positive bounds; shift the range or drop log.' });
    }
    if (d.log && d.step !== 1) out.push({ path: [...at.slice(0, -1), 'step'], message: `log and step cannot be combined (step ${d.step})`, hint: 'Drop step, or drop log.' });
  } else {
    if (d.step !== undefined && !(d.step > 0 && Number.isFinite(d.step))) out.push({ path: [...at.slice(0, -1), 'step'], message: `step must be a positive number (got ${d.step})` });
    if (d.log && low <= 0) {
      out.push({ path: [...at, 0], message: `a log-scaled float needs low > 0 (got ${low})`, hint: 'Log scale needs positive bounds, e.g. [1.0e-5, 1.0e-1].' });
    }
    if (d.log && d.step !== undefined) out.push({ path: [...at.slice(0, -1), 'step'], message: `log and step cannot be combined (step ${d.step})`, hint: 'Drop step, or drop log.' });
  }
  return out;
}

/** Reads a space written in a job spec; returns the issues instead of throwing. */
export function parseSpace(config: SpaceConfig): { space: Space; issues: SpaceIssue[] } {
  const space: Space = {};
  const issues: SpaceIssue[] = [];
  if (!config || typeof config !== 'object' || Object.keys(config).length === 0) {
    issues.push({ path: [], message: 'is empty', hint: 'Name at least one parameter, e.g. lr: { float: [1.0e-4, 1.0e-1], log: true }.' });
    return { space, issues };
  }
  for (const [name, p] of Object.entries(config)) {
    const kinds = (['float', 'int', 'choice'] as const).filter((k) => p?.[k] !== undefined);
    if (kinds.length !== 1) {
      issues.push({
        path: [name],
        message: kinds.length === 0 ? 'needs one of float, int or choice' : `has ${kinds.join(' and ')}; give exactly one`,
        hint: 'e.g. { float: [0.0, 1.0] }, { int: [16, 256], step: 16 } or { choice: [relu, tanh] }.',
      });
      continue;
    }
    const kind = kinds[0]!;
    let d: Distribution;
    if (kind === 'choice') {
      d = { type: 'categorical', choices: p.choice! };
      if (p.log === true || p.step !== undefined) issues.push({ path: [name], message: 'log and step apply to float and int, not to choice' });
    } else {
      const range = p[kind];
      if (!Array.isArray(range) || range.length !== 2) {
        issues.push({ path: [name, kind], message: 'must be [low, high]', hint: `e.g. ${kind}: [0, 10]` });
        continue;
      }
      d = kind === 'int' ? { type: 'int', low: range[0], high: range[1], log: p.log ?? false, step: p.step ?? 1 } : { type: 'float', low: range[0], high: range[1], log: p.log ?? false, ...(p.step !== undefined ? { step: p.step } : {}) };
    }
    const found = distributionIssues(d, [name, kind]);
    issues.push(...found);
    if (found.length === 0) space[name] = normalise(d);
  }
  return { space, issues };
}

/** Clamps `high` onto the step grid (as Optuna does), so that every grid value lies in range. */
export function normalise(d: Distribution): Distribution {
  if (d.type === 'categorical') return { type: 'categorical', choices: [...d.choices] };
  if (d.step !== undefined && !d.log) {
    const k = Math.floor((d.high - d.low) / d.step + 1e-9);
    const high = roundTo(d.low + k * d.step, d.step);
    return { ...d, high };
  }
  return { ...d };
}

/** Rounds away float noise from a grid value (0.1 + 2·0.1 → 0.3). */
function roundTo(v: number, step: number): number {
  const decimals = Math.max(0, Math.min(15, -Math.floor(Math.log10(step)) + 6));
  return Number(v.toFixed(decimals));
}

export function sameDistribution(a: Distribution, b: Distribution): boolean {
  return canonical(a) === canonical(b);
}

/** Stable text form of a distribution or space (sorted keys), for hashing and comparing. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function spaceHash(space: Space): string {
  return createHash('sha256').update(canonical(space)).digest('hex').slice(0, 16);
}

/** Human-readable differences between two spaces, one line each. */
export function diffSpaces(before: Space, after: Space): string[] {
  const out: string[] = [];
  for (const [name, d] of Object.entries(after)) {
    const old = before[name];
    if (!old) out.push(`added ${name}: ${describeDistribution(d)}`);
    else if (!sameDistribution(old, d)) out.push(`changed ${name}: ${describeDistribution(old)} → ${describeDistribution(d)}`);
  }
  for (const name of Object.keys(before)) if (!(name in after)) out.push(`removed ${name}`);
  return out;
}

/** Is `value` a value this distribution can produce? */
export function contains(d: Distribution, value: unknown): boolean {
  if (d.type === 'categorical') return d.choices.some((c) => c === value);
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (value < d.low || value > d.high) return false;
  if (d.type === 'int') {
    if (!Number.isInteger(value)) return false;
    return d.log || (value - d.low) % d.step === 0;
  }
  if (d.step !== undefined) {
    const k = (value - d.low) / d.step;
    return Math.abs(k - Math.round(k)) < 1e-8;
  }
  return true;
}

/** The samplers' number for a value: itself, or a choice's index. */
export function toInternal(d: Distribution, value: ParamValue): number {
  if (d.type === 'categorical') {
    const i = d.choices.findIndex((c) => c === value);
    return i < 0 ? NaN : i;
  }
  return typeof value === 'number' ? value : NaN;
}

/** A value from the samplers' number, snapped onto the distribution's grid and range. */
export function toExternal(d: Distribution, internal: number): ParamValue {
  if (d.type === 'categorical') return d.choices[Math.max(0, Math.min(d.choices.length - 1, Math.round(internal)))]!;
  let v = internal;
  if (d.type === 'int') {
    v = d.log ? Math.round(v) : Math.round((v - d.low) / d.step) * d.step + d.low;
  } else if (d.step !== undefined) {
    v = roundTo(Math.round((v - d.low) / d.step) * d.step + d.low, d.step);
  }
  return Math.min(d.high, Math.max(d.low, v));
}

/** Number of distinct values, or Infinity for a continuous range. */
export function cardinality(d: Distribution): number {
  if (d.type === 'categorical') return d.choices.length;
  if (d.type === 'int') return d.log ? d.high - d.low + 1 : Math.floor((d.high - d.low) / d.step) + 1;
  return d.step !== undefined ? Math.floor((d.high - d.low) / d.step + 1e-9) + 1 : d.low === d.high ? 1 : Infinity;
}

export function floatDist(low: number, high: number, opts: { log?: boolean; step?: number } = {}): FloatDistribution {
  return { type: 'float', low, high, log: opts.log ?? false, ...(opts.step !== undefined ? { step: opts.step } : {}) };
}

export function intDist(low: number, high: number, opts: { log?: boolean; step?: number } = {}): IntDistribution {
  return { type: 'int', low, high, log: opts.log ?? false, step: opts.step ?? 1 };
}

export function categoricalDist(choices: readonly Choice[]): CategoricalDistribution {
  return { type: 'categorical', choices: [...choices] };
}
