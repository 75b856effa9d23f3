/**
 * Bayesian optimisation with a Gaussian process: a Matérn-5/2 GP with per-dimension length
 * scales fitted by marginal likelihood (gp/model.ts), and the next trial where log expected
 * improvement is largest (gp/acquisition.ts).
 *
 * Inputs: each numeric parameter is mapped onto [0, 1] in the space the TPE models it in (log
 * for log ranges, ints and steps over [low − step/2, high + step/2]); the acquisition's optimum
 * is rounded back onto the distribution. Categoricals keep their index and enter the kernel as
 * a Hamming term with their own length scale. Outputs: complete trials only (a pruned trial's
 * last intermediate value is not comparable), standardised.
 *
 * Conditional parameters: one that some finished trials lack is modelled when its presence is
 * told by one categorical it depends on (every finished trial with the same choice of that
 * categorical has it, or every one lacks it; the categorical may itself be conditional). It is
 * then inactive for the other choices (gp/model.ts: NaN or index −1), and the acquisition
 * switches it on and off with its categorical. A parameter whose presence no categorical tells,
 * and spaces with no numeric parameter, are sampled by the default TPE.
 *
 * Exactness: everything random comes from the study's RNG, and the only state kept between
 * asks (the last fitted hyperparameters, the warm start of the next fit) is saved with every
 * trial, so a resumed study suggests exactly what an uninterrupted one does.
 */
import { Posterior, minimizeBox, negLogPosterior, pairTerms, priorMode, thetaPrior, type GpData } from '../gp/model.js';
import { maximizeLogEI } from '../gp/acquisition.js';
import { COMPLETE_STEP_KEY, type History } from '../history.js';
import type { Rng } from '../rng.js';
import { cardinality, type Distribution, type Space } from '../space.js';
import { fromUnit, ScrambledHalton } from './qmc.js';
import { paramInfo, TpeSampler } from './tpe.js';
import type { Sampler, SamplingContext } from './types.js';

export interface GpOptions {
  /** Trials sampled from a scrambled Halton sequence before the GP is used. @default 10 */
  startupTrials: number;
  /** Most observations the posterior conditions on; beyond, the best third and a random sample of the rest. @default 300 */
  maxPoints: number;
  /** Most observations the hyperparameters are fitted on (the same rule). @default 100 */
  fitPoints: number;
  /** Iterations of each hyperparameter fit (L-BFGS). @default 40 */
  fitIterations: number;
  /** Random candidates screened per ask, and perturbations around each of the 5 best trials. @default 256, 24 */
  candidates: number;
  localCandidates: number;
  /** Candidates refined by gradient ascent, and iterations each. @default 4, 20 */
  starts: number;
  iterations: number;
  /** Seed of the Halton scramble (mixed with the study name). */
  seed: number;
}

export const GP_DEFAULTS: GpOptions = {
  startupTrials: 10,
  maxPoints: 300,
  fitPoints: 100,
  fitIterations: 40,
  candidates: 256,
  localCandidates: 24,
  starts: 4,
  iterations: 20,
  seed: 0,
};

interface Dim {
  name: string;
  dist: Distribution;
  col: number;
  /** Choices (categoricals) or 0. */
  C: number;
  log: boolean;
  low: number;
  high: number;
  /** Conditional dimensions: the index (in the dimension list) of the categorical that switches it, and the choices for which it is active. */
  parent?: number;
  active?: Uint8Array;
}

/** The sampler's state between asks: the last fit, for the dimensions it was fitted on. */
interface GpState {
  key: string;
  theta: number[];
}

export class GpSampler implements Sampler {
  readonly type = 'gp';
  readonly options: GpOptions;
  /** Samples what the GP does not: conditional parameters, spaces of choices only. */
  readonly tpe: TpeSampler;
  private state?: GpState;
  private halton?: { study: string; seq: ScrambledHalton };

  constructor(options: Partial<GpOptions> = {}) {
    this.options = { ...GP_DEFAULTS, ...options };
    this.tpe = new TpeSampler({ seed: this.options.seed, startupTrials: this.options.startupTrials });
  }

  saveState(): unknown {
    return this.state ? { key: this.state.key, theta: [...this.state.theta] } : undefined;
  }

  loadState(state: unknown): void {
    const s = state as GpState | undefined;
    this.state = s && typeof s.key === 'string' && Array.isArray(s.theta) ? { key: s.key, theta: [...s.theta] } : undefined;
  }

  sampleIndependent(ctx: SamplingContext, name: string, dist: Distribution): number {
    return this.tpe.sampleIndependent(ctx, name, dist);
  }

  sampleRelative(ctx: SamplingContext, space: Space): Map<string, number> {
    const names = Object.keys(space).filter((n) => cardinality(space[n]!) > 1);
    if (names.length === 0) return new Map();
    const h = ctx.history;
    if (h.n < this.options.startupTrials) return this.startupPoint(ctx, space, names);
    // The joint space: parameters every finished trial has (as the TPE's intersection space).
    const joint = names.filter((n) => h.sortedLen[h.column(n, space[n]!)] === h.n).sort();
    const dims = joint.map((n) => dimOf(n, space[n]!, h.column(n, space[n]!)));
    dims.push(...conditionalDims(h, space, names, dims));
    if (!dims.some((d) => d.C === 0)) return this.tpe.sampleRelative(ctx, space);
    const rows: number[] = [];
    for (let r = 0; r < h.n; r++) if (h.stepKey[r] === COMPLETE_STEP_KEY && Number.isFinite(h.score[r]!)) rows.push(r);
    if (rows.length < 2) return this.tpe.sampleRelative(ctx, space);
    return this.suggest(ctx, dims, rows);
  }

  private startupPoint(ctx: SamplingContext, space: Space, names: string[]): Map<string, number> {
    if (this.halton?.study !== ctx.studyName) this.halton = { study: ctx.studyName, seq: new ScrambledHalton(this.options.seed, ctx.studyName) };
    const seq = this.halton.seq;
    const out = new Map<string, number>();
    [...names].sort().forEach((n, j) => out.set(n, fromUnit(space[n]!, seq.value(ctx.trialNumber, j))));
    return out;
  }

  private suggest(ctx: SamplingContext, dims: Dim[], allRows: number[]): Map<string, number> {
    const o = this.options;
    const h = ctx.history;
    const D = dims.length;
    const cat = Uint8Array.from(dims, (d) => (d.C > 0 ? 1 : d.parent !== undefined ? 2 : 0));
    const posteriorRows = subsample(h, allRows, o.maxPoints, ctx.rng);
    const fitRows = posteriorRows.length > o.fitPoints ? subsample(h, posteriorRows, o.fitPoints, ctx.rng) : posteriorRows;
    // Outputs: warped by log1p((y − min) / (median − min)), which is nearly linear among the
    // better half and compresses the long tail of bad values (Rosenbrock-like objectives, diverged
    // trainings) that would otherwise flatten the model; then standardised over every complete
    // trial, so both subsets share one scale.
    const yOf = warpedScores(h, allRows);
    let mean = 0;
    for (const r of allRows) mean += yOf.get(r)!;
    mean /= allRows.length;
    let ss = 0;
    for (const r of allRows) ss += (yOf.get(r)! - mean) ** 2;
    const scale = Math.sqrt(ss / allRows.length) || 1;
    // The prior mean (0 after standardising) is the 75th percentile of the warped values, not
    // their mean: far from every trial the model expects a worse than typical value, so the
    // acquisition spends fewer trials exploring the box's edges and corners for their variance
    // alone (with the mean, 38% of the GP's trials 11-50 on Levy-5D had a parameter within 2% of
    // a bound; now 20%). Figures: docs/hpo.md, *Samplers* and *Quality and the GP*.
    const warped = allRows.map((r) => yOf.get(r)!).sort((a, b) => a - b);
    mean = warped[Math.min(warped.length - 1, Math.floor(0.75 * warped.length))]!;
    const build = (rows: number[], extra: Float64Array[] = [], extraY: number[] = []): GpData => {
      const n = rows.length + extra.length;
      const X = new Float64Array(n * D);
      const y = new Float64Array(n);
      rows.forEach((r, i) => {
        for (let d = 0; d < D; d++) X[i * D + d] = toUnit(dims[d]!, h.cols[dims[d]!.col]![r]!);
        y[i] = (yOf.get(r)! - mean) / scale;
      });
      extra.forEach((x, k) => {
        X.set(x, (rows.length + k) * D);
        y[rows.length + k] = extraY[k]!;
      });
      return { X, y, n, D, cat };
    };

    // Hyperparameters: MAP by L-BFGS. From the prior's mode, from short length scales and from
    // the last fit while the study is small and then every 10th trial (every 20th past 100
    // complete trials); otherwise from the last fit alone, which moves little as one trial is
    // added: 20 iterations, or 10 with a looser tolerance past 100 complete trials.
    const key = dims.map((d) => `${d.name}:${d.C}`).join('|');
    const prior = thetaPrior(D);
    const fitData = build(fitRows);
    const pairs = pairTerms(fitData);
    const f = (t: Float64Array) => negLogPosterior(t, fitData, prior, pairs);
    const previous = this.state?.key === key && this.state.theta.length === D + 2 ? Float64Array.from(this.state.theta) : undefined;
    const large = allRows.length > 100;
    const starts: Float64Array[] = [];
    const full = !previous || allRows.length <= 50 || ctx.trialNumber % (large ? 20 : 10) === 0;
    if (previous) starts.push(previous);
    if (full) {
      starts.push(priorMode(prior));
      const short = priorMode(prior);
      for (let d = 0; d < D; d++) short[d] = Math.log(0.2);
      starts.push(short);
    }
    let theta = starts[0]!;
    let bestValue = Infinity;
    for (const s of starts) {
      const r = full
        ? minimizeBox(f, s, prior.lo, prior.hi, o.fitIterations)
        : large
          ? minimizeBox(f, s, prior.lo, prior.hi, Math.ceil(o.fitIterations / 4), 6, 1e-5)
          : minimizeBox(f, s, prior.lo, prior.hi, Math.ceil(o.fitIterations / 2));
      if (r.value < bestValue) {
        bestValue = r.value;
        theta = r.x;
      }
    }
    this.state = { key, theta: [...theta] };

    // Trials still running (parallel): at their posterior mean (the "kriging believer"), so the
    // next point goes elsewhere.
    let data = build(posteriorRows);
    let post = new Posterior(data, theta);
    const pending: Float64Array[] = [];
    for (const run of ctx.running) {
      // A conditional parameter a running trial has not (yet) suggested counts as inactive.
      if (!dims.every((d) => d.parent !== undefined || run.has(d.name))) continue;
      pending.push(Float64Array.from(dims, (d) => toUnit(d, run.get(d.name) ?? NaN)));
    }
    let best = Infinity;
    if (pending.length > 0) {
      const ys = pending.map((x) => post.predict(x).mu);
      data = build(posteriorRows, pending, ys);
      post = new Posterior(data, theta);
      // The believed values count as observed: the incumbent too.
      for (const v of ys) best = Math.min(best, v);
    }
    const ranked = [...posteriorRows].sort((a, b) => h.score[a]! - h.score[b]! || a - b);
    for (const r of posteriorRows) best = Math.min(best, (yOf.get(r)! - mean) / scale);
    const around = ranked.slice(0, 5).map((r) => Float64Array.from(dims, (d) => toUnit(d, h.cols[d.col]![r]!)));
    const choices = Int32Array.from(dims, (d) => d.C);
    const mask = dims.some((d) => d.parent !== undefined) ? maskOf(dims) : undefined;
    const { x } = maximizeLogEI(post, best, { D, choices, mask }, ctx.rng, {
      // Fewer candidates once the posterior is large (each costs O(n²)).
      random: posteriorRows.length > 100 ? o.candidates >> 1 : o.candidates,
      local: posteriorRows.length > 100 ? o.localCandidates >> 1 : o.localCandidates,
      around,
      starts: posteriorRows.length > 100 ? Math.max(1, o.starts - 1) : o.starts,
      iterations: posteriorRows.length > 100 ? Math.ceil((o.iterations * 3) / 4) : o.iterations,
    });
    const out = new Map<string, number>();
    dims.forEach((d, i) => {
      // An inactive parameter is left out: should the trial ask for it after all, the TPE answers.
      if (Number.isNaN(x[i]!) || x[i]! < 0) return;
      out.set(d.name, d.C > 0 ? x[i]! : fromUnit(d.dist, Math.min(x[i]!, 1 - 1e-12)));
    });
    return out;
  }
}

/** How many parameters of the space some finished trials lack, and how many of those the GP models. */
export function conditionalCoverage(h: History, space: Space): { conditional: number; modelled: number } {
  const names = Object.keys(space).filter((n) => cardinality(space[n]!) > 1);
  const joint = names.filter((n) => h.sortedLen[h.column(n, space[n]!)] === h.n).sort();
  const dims = joint.map((n) => dimOf(n, space[n]!, h.column(n, space[n]!)));
  const conditional = names.filter((n) => h.sortedLen[h.column(n, space[n]!)]! < h.n).length;
  return { conditional, modelled: conditional === 0 ? 0 : conditionalDims(h, space, names, dims).length };
}

/**
 * The conditional parameters the GP can model: those some finished trials lack, whose presence
 * one categorical already modelled tells (see the file's comment), each with that categorical
 * and the choices it is active for. Categoricals are tried in order, and a conditional
 * categorical accepted here can switch later ones (nesting); the result is a function of the
 * history alone, so resumed studies choose the same.
 */
export function conditionalDims(h: History, space: Space, names: string[], dims: readonly Dim[]): Dim[] {
  const found: Dim[] = [];
  const todo = names.filter((n) => {
    const c = h.columnOf(n);
    return c !== undefined && h.sortedLen[c]! > 0 && h.sortedLen[c]! < h.n;
  });
  todo.sort();
  let added = true;
  while (added && todo.length > 0) {
    added = false;
    for (let k = 0; k < todo.length; k++) {
      const name = todo[k]!;
      const col = h.columnOf(name)!;
      const all = [...dims, ...found];
      for (let p = 0; p < all.length; p++) {
        const parent = all[p]!;
        if (parent.C === 0) continue;
        const active = presenceBy(h, h.cols[parent.col]!, h.cols[col]!, parent.C);
        if (!active) continue;
        found.push({ ...dimOf(name, space[name]!, col), parent: p, active });
        todo.splice(k--, 1);
        added = true;
        break;
      }
    }
  }
  return found;
}

/**
 * Whether the parent's value tells the child's presence in every finished trial: per choice,
 * 1 (present), 0 (absent or never seen). Undefined when it does not: a choice with the child
 * both present and absent, the child present where the parent is missing, or no choice without it.
 */
function presenceBy(h: History, parent: Float64Array, child: Float64Array, C: number): Uint8Array | undefined {
  // 0 unseen, 1 present, 2 absent.
  const seen = new Uint8Array(C);
  let someAbsent = false;
  for (let r = 0; r < h.n; r++) {
    const has = !Number.isNaN(child[r]!);
    const v = parent[r]!;
    if (Number.isNaN(v)) {
      if (has) return undefined;
      continue;
    }
    const want = has ? 1 : 2;
    if (seen[v]! !== 0 && seen[v]! !== want) return undefined;
    seen[v] = want;
    if (!has) someAbsent = true;
  }
  if (!someAbsent) return undefined;
  return seen.map((s) => (s === 1 ? 1 : 0));
}

/** The acquisition's mask: each conditional coordinate inactive unless its categorical holds one of its choices. */
function maskOf(dims: readonly Dim[]): (x: Float64Array, out: Float64Array) => void {
  return (x, out) => {
    out.set(x);
    for (let i = 0; i < dims.length; i++) {
      const d = dims[i]!;
      if (d.parent === undefined) continue;
      const v = out[d.parent]!;
      if (!(v >= 0) || d.active![v] !== 1) out[i] = d.C > 0 ? -1 : NaN;
    }
  };
}

function dimOf(name: string, dist: Distribution, col: number): Dim {
  const p = paramInfo(name, dist, col);
  return { name, dist, col, C: p.cat ? p.C : 0, log: p.log, low: p.low, high: p.high };
}

/** A parameter's internal value in the unit box (a choice keeps its index). */
function toUnit(d: Dim, v: number): number {
  if (Number.isNaN(v)) return d.C > 0 ? -1 : NaN;
  if (d.C > 0) return v;
  const t = d.log ? Math.log(v) : v;
  return d.high > d.low ? Math.min(1, Math.max(0, (t - d.low) / (d.high - d.low))) : 0.5;
}

/** The warped objective of each row (see suggest). */
function warpedScores(h: History, rows: number[]): Map<number, number> {
  const sorted = rows.map((r) => h.score[r]!).sort((a, b) => a - b);
  const min = sorted[0]!;
  const med = sorted[(sorted.length - 1) >> 1]!;
  const spread = med - min > 0 ? med - min : Math.max(sorted[sorted.length - 1]! - min, 1e-12);
  return new Map(rows.map((r) => [r, Math.log1p((h.score[r]! - min) / spread)]));
}

/** At most `cap` rows: the best third by score, and the rest drawn at random (seeded), in row order. */
function subsample(h: History, rows: number[], cap: number, rng: Rng): number[] {
  if (rows.length <= cap) return rows;
  const ranked = [...rows].sort((a, b) => h.score[a]! - h.score[b]! || a - b);
  const keep = Math.floor(cap / 3);
  const chosen = ranked.slice(0, keep);
  const rest = ranked.slice(keep);
  // A partial Fisher–Yates shuffle of the rest picks cap − keep of them.
  for (let i = 0; i < cap - keep; i++) {
    const j = i + rng.int(rest.length - i);
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
    chosen.push(rest[i]!);
  }
  return chosen.sort((a, b) => a - b);
}
