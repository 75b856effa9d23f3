/**
 * The Tree-structured Parzen Estimator (Bergstra et al. 2011; Watanabe 2023) in two presets.
 * 'optuna-3.1' is Optuna 3.1's TPESampler with its defaults: random startup trials,
 * γ(n) = min(⌈0.1·n⌉, 25), Optuna's default weights (a linear ramp over all but the newest 25
 * observations), a prior component of weight 1, "magic clip" bandwidths, endpoints not
 * considered, 24 expected-improvement candidates, univariate (or multivariate with Optuna's
 * bandwidth), and a constant liar for trials still running. 'default' changes five things
 * (TPE_DEFAULTS): multivariate kernels with Scott's-rule widths, every other trial univariate,
 * good trials weighted by improvement, a magic clip of exponent 1.25, and a Halton startup.
 *
 * Everything runs over typed arrays: the history keeps one column per parameter, the split into
 * good (l) and bad (g) observations is a partial selection of the best γ(n), and the mixtures
 * are evaluated as dense (candidate × component) sums.
 */
import { COMPLETE_STEP_KEY, History } from '../history.js';
import { LOG_SQRT_2PI, logGaussMass, truncnormPpf } from '../math.js';
import type { Rng } from '../rng.js';
import { cardinality, type Distribution, type Space } from '../space.js';
import { fromUnit, ScrambledHalton } from './qmc.js';
import { sampleUniform } from './random.js';
import type { Sampler, SamplingContext } from './types.js';

export interface TpeOptions {
  /** Trials before TPE starts, sampled at random or from a Halton sequence (Optuna: n_startup_trials). @default 10 */
  startupTrials: number;
  /** Candidates drawn from l(x) per suggestion (n_ei_candidates). @default 24 */
  candidates: number;
  /** Size of the good group for n observations. @default min(ceil(0.1 n), 25) */
  gamma: (n: number) => number;
  /** Observation weights, oldest first (the bad group's, and the good group's with weighting 'optuna'). @default Optuna's default_weights */
  weights: (n: number) => Float64Array;
  /** @default 1 */
  priorWeight: number;
  /**
   * The prior weight inside categorical kernels: each kernel puts mass ∝ this / (kernels) on the
   * choices other than its own. Unset: priorWeight (Optuna's).
   */
  categoricalPriorWeight?: number;
  /** @default true */
  considerPrior: boolean;
  /** @default true */
  considerMagicClip: boolean;
  /** @default false */
  considerEndpoints: boolean;
  /** One joint kernel per observation instead of one per parameter. */
  multivariate: boolean;
  /** Count running trials as the worst observations, so parallel trials spread out. @default true */
  constantLiar: boolean;
  /**
   * 'optuna-3.1' evaluates a continuous kernel as Optuna 3.1 does, whose truncated-normal log
   * density leaves out the -log σ term, so that each kernel weighs in proportion to its width;
   * 'exact' uses the normalised density of the papers. @default 'optuna-3.1'
   */
  kernelDensity: 'optuna-3.1' | 'exact';
  /**
   * Multivariate kernel widths: 'optuna' (Optuna's 0.2·n^(-1/(d+4))·range, the same for every
   * kernel and parameter) or 'scott' (per parameter, Scott's rule 1.059·min(IQR/1.34, sd)·n^(-1/5)
   * on the kernels' means, as Watanabe 2023).
   */
  bandwidth: 'optuna' | 'scott';
  /**
   * The magic clip floors a kernel's width at range / min(1/minBandwidthFactor, (1 + kernels)^α)
   * with α this exponent (Watanabe 2023); Optuna's is α = 1, i.e. range / min(100, 1 + kernels).
   */
  magicClipExponent: number;
  /** @default 0.01 */
  minBandwidthFactor: number;
  /**
   * Weights of the good group: 'optuna' (the `weights` function) or 'ei', each good observation
   * by how much it improves on the best bad one (Watanabe 2023), the prior by their mean.
   */
  weighting: 'optuna' | 'ei';
  /** Multivariate: the share of trials sampled by the univariate TPE instead (spread evenly by trial number). */
  univariateShare: number;
  /** Startup trials: uniformly random, or points of a scrambled Halton sequence over the space. */
  startup: 'random' | 'halton';
  /** Seed of the Halton sequence's scramble (mixed with the study name). @default 0 */
  seed: number;
}

export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

export function defaultWeights(n: number): Float64Array {
  const w = new Float64Array(n).fill(1);
  if (n >= 25) {
    const num = n - 25;
    for (let i = 0; i < num; i++) w[i] = num === 1 ? 1 / n : 1 / n + (i * (1 - 1 / n)) / (num - 1);
  }
  return w;
}

/** Optuna 3.1's TPESampler, exactly: the compatibility preset. */
export const TPE_OPTUNA_31: TpeOptions = {
  startupTrials: 10,
  candidates: 24,
  gamma: defaultGamma,
  weights: defaultWeights,
  priorWeight: 1,
  considerPrior: true,
  considerMagicClip: true,
  considerEndpoints: false,
  multivariate: false,
  constantLiar: true,
  kernelDensity: 'optuna-3.1',
  bandwidth: 'optuna',
  magicClipExponent: 1,
  minBandwidthFactor: 0.01,
  weighting: 'optuna',
  univariateShare: 0,
  startup: 'random',
  seed: 0,
};

/**
 * The default: multivariate kernels with Scott's-rule widths, every other trial sampled by the
 * univariate TPE, the good group weighted by improvement, a magic clip of exponent 1.25, and a
 * scrambled Halton design for the startup trials. docs/hpo.md (Samplers) says why, and
 * bench/hpo/heldout.mjs measures each part on functions the benchmark does not use.
 */
export const TPE_DEFAULTS: TpeOptions = {
  ...TPE_OPTUNA_31,
  multivariate: true,
  bandwidth: 'scott',
  univariateShare: 0.5,
  weighting: 'ei',
  magicClipExponent: 1.25,
  startup: 'halton',
};

export type TpePreset = 'default' | 'optuna-3.1';

export const TPE_PRESETS: Record<TpePreset, TpeOptions> = { default: TPE_DEFAULTS, 'optuna-3.1': TPE_OPTUNA_31 };

const SIGMA0_MAGNITUDE = 0.2;
const EPS = 1e-12;

/** A parameter as the estimator sees it: transformed bounds, grid step, log flag. */
interface ParamInfo {
  name: string;
  dist: Distribution;
  col: number;
  cat: boolean;
  /** Number of choices for categoricals. */
  C: number;
  log: boolean;
  /** Parzen bounds in the transformed space. */
  low: number;
  high: number;
  /** Grid step (0 when continuous). */
  q: number;
}

export function paramInfo(name: string, dist: Distribution, col: number): ParamInfo {
  if (dist.type === 'categorical') return { name, dist, col, cat: true, C: dist.choices.length, log: false, low: 0, high: 0, q: 0 };
  if (dist.type === 'float') {
    if (dist.log) return { name, dist, col, cat: false, C: 0, log: true, low: Math.log(dist.low), high: Math.log(dist.high), q: 0 };
    if (dist.step !== undefined) return { name, dist, col, cat: false, C: 0, log: false, low: dist.low - 0.5 * dist.step, high: dist.high + 0.5 * dist.step, q: dist.step };
    return { name, dist, col, cat: false, C: 0, log: false, low: dist.low, high: dist.high, q: 0 };
  }
  if (dist.log) return { name, dist, col, cat: false, C: 0, log: true, low: Math.log(dist.low - 0.5), high: Math.log(dist.high + 0.5), q: 0 };
  return { name, dist, col, cat: false, C: 0, log: false, low: dist.low - 0.5 * dist.step, high: dist.high + 0.5 * dist.step, q: dist.step };
}

/** From the transformed space back onto the distribution (rounding, clipping), still numeric. */
function untransform(p: ParamInfo, x: number): number {
  const d = p.dist;
  if (d.type === 'categorical') return x;
  if (d.type === 'float') {
    if (d.log) return Math.min(d.high, Math.max(d.low, Math.exp(x)));
    if (d.step !== undefined) return Math.min(d.high, Math.max(d.low, Math.round((x - d.low) / d.step) * d.step + d.low));
    return Math.min(d.high, Math.max(d.low, x));
  }
  if (d.log) return Math.min(d.high, Math.max(d.low, Math.round(Math.exp(x))));
  return Math.min(d.high, Math.max(d.low, Math.round((x - d.low) / d.step) * d.step + d.low));
}

/** A mixture of truncated Gaussians (and categorical kernels), one component per observation plus the prior. */
export class ParzenEstimator {
  readonly J: number;
  /** Normalised component weights (and their logs). */
  readonly w: Float64Array;
  readonly logW: Float64Array;
  readonly cum: Float64Array;
  readonly mus: (Float64Array | undefined)[] = [];
  readonly sigmas: (Float64Array | undefined)[] = [];
  readonly invSig: (Float64Array | undefined)[] = [];
  /** log of each component's mass inside the bounds. */
  readonly logZ: (Float64Array | undefined)[] = [];
  /** Observed choice per component (-1 for the prior) and the two log-probabilities of a row. */
  readonly catObs: (Int32Array | undefined)[] = [];
  readonly catLog: ({ hit: number; miss: number; prior: number } | undefined)[] = [];
  /**
   * Grid parameters: the distinct (μ, σ) pairs (observations repeat on a grid) and each
   * component's pair, so that interval masses are computed once per pair.
   */
  readonly uniq: ({ index: Int32Array; mu: Float64Array; sig: Float64Array; logZ: Float64Array } | undefined)[] = [];

  /** Whether a kernel's log density includes -log σ (see TpeOptions.kernelDensity). */
  private readonly scaleTerm: boolean;

  /**
   * `obs[p]` holds the transformed observations of parameter p, oldest first. `order`, when
   * given, is the stable argsort of the first parameter's observations (the history keeps it).
   */
  constructor(
    readonly params: ParamInfo[],
    obs: Float64Array[],
    m: number,
    o: TpeOptions,
    order?: Int32Array,
    /** Observation weights (oldest first) instead of `o.weights`; the prior then weighs priorWeight × their mean. */
    given?: Float64Array,
  ) {
    this.scaleTerm = o.kernelDensity === 'exact';
    const prior = o.considerPrior || m === 0;
    this.J = m + (prior ? 1 : 0);
    const w = new Float64Array(this.J);
    if (m > 0) w.set(given ? given.subarray(0, m) : o.weights(m).subarray(0, m));
    if (prior) {
      let mean = 1;
      if (given && m > 0) {
        mean = 0;
        for (let j = 0; j < m; j++) mean += w[j]!;
        mean /= m;
      }
      w[m] = o.priorWeight * mean;
    }
    let sum = 0;
    for (let j = 0; j < this.J; j++) sum += w[j]!;
    const logW = new Float64Array(this.J);
    const cum = new Float64Array(this.J);
    let acc = 0;
    for (let j = 0; j < this.J; j++) {
      w[j]! /= sum;
      logW[j] = Math.log(w[j]!);
      acc += w[j]!;
      cum[j] = acc;
    }
    cum[this.J - 1] = 1;
    this.w = w;
    this.logW = logW;
    this.cum = cum;
    const sigma0 = o.multivariate ? SIGMA0_MAGNITUDE * Math.max(m, 1) ** (-1 / (params.length + 4)) : 0;
    // The magic clip: range / min(1/Δ, (1 + kernels)^α); Optuna's is range / min(100, 1 + kernels).
    const clipDiv = Math.min(1 / o.minBandwidthFactor, (1 + this.J) ** o.magicClipExponent);

    for (const [pi, p] of params.entries()) {
      const x = obs[pi]!;
      if (p.cat) {
        const ob = new Int32Array(this.J).fill(-1);
        for (let j = 0; j < m; j++) ob[j] = x[j]!;
        this.catObs.push(ob);
        const pw = o.categoricalPriorWeight ?? o.priorWeight;
        const value = prior ? pw / (m + 1) : pw / m;
        const norm = p.C * value + 1;
        this.catLog.push({ hit: Math.log((value + 1) / norm), miss: Math.log(value / norm), prior: Math.log(1 / p.C) });
        this.mus.push(undefined);
        this.sigmas.push(undefined);
        this.invSig.push(undefined);
        this.logZ.push(undefined);
        this.uniq.push(undefined);
        continue;
      }
      const mus = new Float64Array(this.J);
      mus.set(x.subarray(0, m));
      const range = p.high - p.low;
      if (prior) mus[m] = 0.5 * (p.low + p.high);
      const sig = new Float64Array(this.J);
      let idx: Int32Array | undefined;
      if (o.multivariate && o.bandwidth === 'scott') {
        sig.fill(scott(mus, this.J));
      } else if (o.multivariate) {
        sig.fill(sigma0 * range);
      } else {
        idx = order && params.length === 1 ? withPrior(order, mus, prior ? m : -1) : argsort(mus);
        const L = this.J + 2;
        const s = new Float64Array(L);
        s[0] = p.low;
        for (let k = 0; k < this.J; k++) s[k + 1] = mus[idx[k]!]!;
        s[L - 1] = p.high;
        for (let k = 0; k < this.J; k++) {
          let v = Math.max(s[k + 1]! - s[k]!, s[k + 2]! - s[k + 1]!);
          if (!o.considerEndpoints && L >= 4) {
            if (k === 0) v = s[2]! - s[1]!;
            else if (k === this.J - 1) v = s[L - 2]! - s[L - 3]!;
          }
          sig[idx[k]!] = v;
        }
      }
      const maxS = range;
      const minS = o.considerMagicClip ? range / clipDiv : EPS;
      for (let j = 0; j < this.J; j++) sig[j] = Math.min(maxS, Math.max(minS, sig[j]!));
      if (prior) sig[m] = range;
      this.mus.push(mus);
      this.sigmas.push(sig);
      const inv = new Float64Array(this.J);
      for (let j = 0; j < this.J; j++) inv[j] = 1 / sig[j]!;
      this.invSig.push(inv);
      this.catObs.push(undefined);
      this.catLog.push(undefined);
      if (p.q > 0) {
        const index = new Int32Array(this.J);
        const byMu = new Map<number, Map<number, number>>();
        const um: number[] = [];
        const us: number[] = [];
        for (let j = 0; j < this.J; j++) {
          let bySig = byMu.get(mus[j]!);
          if (!bySig) byMu.set(mus[j]!, (bySig = new Map()));
          let u = bySig.get(sig[j]!);
          if (u === undefined) {
            u = um.length;
            bySig.set(sig[j]!, u);
            um.push(mus[j]!);
            us.push(sig[j]!);
          }
          index[j] = u;
        }
        const lz = new Float64Array(um.length);
        for (let u = 0; u < um.length; u++) lz[u] = logGaussMass((p.low - um[u]!) / us[u]!, (p.high - um[u]!) / us[u]!);
        this.uniq.push({ index, mu: Float64Array.from(um), sig: Float64Array.from(us), logZ: lz });
        this.logZ.push(undefined);
      } else {
        const logZ = new Float64Array(this.J);
        for (let j = 0; j < this.J; j++) logZ[j] = logGaussMass((p.low - mus[j]!) / sig[j]!, (p.high - mus[j]!) / sig[j]!);
        this.logZ.push(logZ);
        this.uniq.push(undefined);
      }
      if (idx && params.length === 1 && p.q === 0) this.window = this.windowOf(mus, sig, idx, prior ? m : -1);
    }
  }

  /**
   * One continuous parameter (univariate TPE): kernels sorted by mean, and a radius beyond which a
   * kernel's term is more than e^40 below the largest one (the prior, always kept, bounds it),
   * so each candidate visits only the kernels near it.
   */
  private window?: { sortedMu: Float64Array; order: Int32Array; radius: number; prior: number; priorPos: number; base: Float64Array };

  private windowOf(mus: Float64Array, sig: Float64Array, order: Int32Array, prior: number): NonNullable<ParzenEstimator["window"]> {
    const J = this.J;
    let maxW = -Infinity;
    let minW = Infinity;
    let maxS = 0;
    let minS = Infinity;
    for (let j = 0; j < J; j++) {
      maxW = Math.max(maxW, this.logW[j]!);
      minW = Math.min(minW, this.logW[j]!);
      if (j === prior) continue;
      maxS = Math.max(maxS, sig[j]!);
      minS = Math.min(minS, sig[j]!);
    }
    // Terms differ by at most the weights' spread, the -log σ spread (exact densities) and the
    // normalisers (< 1); beyond this radius a kernel is e^40 below the prior's term.
    const sigmaSpread = maxS > 0 ? Math.log(maxS / minS) : 0;
    const spread = maxW - minW + (this.scaleTerm ? sigmaSpread : 0) + 1;
    const radius = Math.sqrt(2 * (40 + spread)) * maxS;
    const sortedMu = new Float64Array(J);
    let priorPos = -1;
    for (let k = 0; k < J; k++) {
      sortedMu[k] = mus[order[k]!]!;
      if (order[k] === prior) priorPos = k;
    }
    // Per-kernel constants of a term: log weight, normaliser, and -log σ when exact.
    const base = new Float64Array(J);
    const lz = this.logZ[0]!;
    for (let j = 0; j < J; j++) base[j] = this.logW[j]! - LOG_SQRT_2PI - lz[j]! - (this.scaleTerm ? Math.log(sig[j]!) : 0);
    return { sortedMu, order, radius, prior, priorPos, base };
  }

  private logPdfWindow(xs: Float64Array, size: number): Float64Array {
    const w = this.window!;
    const p = this.params[0]!;
    const mus = this.mus[0]!;
    const inv = this.invSig[0]!;
    const out = new Float64Array(size);
    const terms = new Float64Array(this.J + 1);
    const term = (j: number, x: number): number => {
      const z = (x - mus[j]!) * inv[j]!;
      return w.base[j]! - 0.5 * z * z;
    };
    for (let s = 0; s < size; s++) {
      const xv = xs[s]!;
      const x = p.log ? Math.log(xv) : xv;
      const lo = lowerBound(w.sortedMu, x - w.radius);
      const hi = lowerBound(w.sortedMu, x + w.radius, true);
      let n = 0;
      let max = -Infinity;
      for (let k = lo; k < hi; k++) {
        const t = term(w.order[k]!, x);
        terms[n++] = t;
        if (t > max) max = t;
      }
      if (w.prior >= 0 && (w.priorPos < lo || w.priorPos >= hi)) {
        const t = term(w.prior, x);
        terms[n++] = t;
        if (t > max) max = t;
      }
      if (max === -Infinity) {
        out[s] = -Infinity;
        continue;
      }
      const floor = max - 40;
      let sum = 0;
      for (let i = 0; i < n; i++) if (terms[i]! > floor) sum += Math.exp(terms[i]! - max);
      out[s] = Math.log(sum) + max;
    }
    return out;
  }

  /** One categorical parameter (univariate): the mixture collapses to per-choice weight totals. */
  private logPdfCategorical(xs: Float64Array, size: number): Float64Array {
    const p = this.params[0]!;
    const ob = this.catObs[0]!;
    const cl = this.catLog[0]!;
    const totals = new Float64Array(p.C);
    let observed = 0;
    let priorW = 0;
    for (let j = 0; j < this.J; j++) {
      const o = ob[j]!;
      if (o < 0) priorW += this.w[j]!;
      else {
        totals[o]! += this.w[j]!;
        observed += this.w[j]!;
      }
    }
    const hit = Math.exp(cl.hit);
    const miss = Math.exp(cl.miss);
    const out = new Float64Array(size);
    for (let s = 0; s < size; s++) {
      const c = xs[s]!;
      out[s] = Math.log(totals[c]! * hit + (observed - totals[c]!) * miss + priorW / p.C);
    }
    return out;
  }

  /** Draws `size` samples; returns per parameter the values on the distribution (untransformed). */
  sample(rng: Rng, size: number): Float64Array[] {
    const active = new Int32Array(size);
    for (let s = 0; s < size; s++) active[s] = searchCum(this.cum, rng.random());
    const out: Float64Array[] = [];
    for (const [pi, p] of this.params.entries()) {
      const v = new Float64Array(size);
      if (p.cat) {
        const ob = this.catObs[pi]!;
        const cl = this.catLog[pi]!;
        const hit = Math.exp(cl.hit);
        const miss = Math.exp(cl.miss);
        for (let s = 0; s < size; s++) {
          const j = active[s]!;
          const u = rng.random();
          const o = ob[j]!;
          if (o < 0) {
            v[s] = Math.min(p.C - 1, Math.floor(u * p.C));
            continue;
          }
          let acc = 0;
          let c = 0;
          for (; c < p.C - 1; c++) {
            acc += c === o ? hit : miss;
            if (u < acc) break;
          }
          v[s] = c;
        }
      } else {
        const mus = this.mus[pi]!;
        const sig = this.sigmas[pi]!;
        for (let s = 0; s < size; s++) {
          const j = active[s]!;
          const mu = mus[j]!;
          const sg = sig[j]!;
          const z = truncnormPpf(rng.random(), (p.low - mu) / sg, (p.high - mu) / sg);
          v[s] = untransform(p, mu + sg * z);
        }
      }
      out.push(v);
    }
    return out;
  }

  /** log density of each sample (values as returned by `sample`). */
  logPdf(samples: Float64Array[], size: number): Float64Array {
    if (this.window) return this.logPdfWindow(samples[0]!, size);
    if (this.params.length === 1 && this.params[0]!.cat) return this.logPdfCategorical(samples[0]!, size);
    const J = this.J;
    const out = new Float64Array(size);
    // Everything that does not depend on the sample, folded per component.
    const base = new Float64Array(this.logW);
    for (const [pi, p] of this.params.entries()) {
      if (p.cat || p.q > 0) continue;
      const sig = this.sigmas[pi]!;
      const lz = this.logZ[pi]!;
      if (this.scaleTerm) for (let j = 0; j < J; j++) base[j]! -= Math.log(sig[j]!) + LOG_SQRT_2PI + lz[j]!;
      else for (let j = 0; j < J; j++) base[j]! -= LOG_SQRT_2PI + lz[j]!;
    }
    const acc = new Float64Array(J);
    // Grid parameters repeat values across candidates; their terms are computed once per value.
    const gridCache = this.params.map((p) => (p.q > 0 ? new Map<number, Float64Array>() : undefined));
    for (let s = 0; s < size; s++) {
      acc.set(base);
      for (const [pi, p] of this.params.entries()) {
        const xv = samples[pi]![s]!;
        if (p.cat) {
          const ob = this.catObs[pi]!;
          const cl = this.catLog[pi]!;
          for (let j = 0; j < J; j++) {
            const o = ob[j]!;
            acc[j]! += o < 0 ? cl.prior : o === xv ? cl.hit : cl.miss;
          }
          continue;
        }
        const mus = this.mus[pi]!;
        if (p.q > 0) {
          const cache = gridCache[pi]!;
          const uq = this.uniq[pi]!;
          let t = cache.get(xv);
          if (!t) {
            const U = uq.mu.length;
            t = new Float64Array(U);
            const x = p.log ? Math.log(xv) : xv;
            const lb = Math.max(x - 0.5 * p.q, p.low);
            const ub = Math.min(x + 0.5 * p.q, p.high);
            for (let u = 0; u < U; u++) {
              const inv = 1 / uq.sig[u]!;
              t[u] = logGaussMass((lb - uq.mu[u]!) * inv, (ub - uq.mu[u]!) * inv) - uq.logZ[u]!;
            }
            cache.set(xv, t);
          }
          const index = uq.index;
          for (let j = 0; j < J; j++) acc[j]! += t[index[j]!]!;
          continue;
        }
        const x = p.log ? Math.log(xv) : xv;
        const inv = this.invSig[pi]!;
        for (let j = 0; j < J; j++) {
          const z = (x - mus[j]!) * inv[j]!;
          acc[j]! -= 0.5 * z * z;
        }
      }
      let max = -Infinity;
      for (let j = 0; j < J; j++) if (acc[j]! > max) max = acc[j]!;
      if (max === -Infinity) {
        out[s] = -Infinity;
        continue;
      }
      // Components more than e^40 below the largest cannot change the sum in double precision.
      const floor = max - 40;
      let sum = 0;
      for (let j = 0; j < J; j++) {
        const a = acc[j]!;
        if (a > floor) sum += Math.exp(a - max);
      }
      out[s] = Math.log(sum) + max;
    }
    return out;
  }
}

/**
 * Scott's rule on the kernels' means (the prior's included, as Watanabe 2023):
 * 1.059 · min(IQR / 1.34, std) · n^(-exponent), with the standard deviation alone when the
 * interquartile range is 0.
 */
function scott(mus: Float64Array, n: number): number {
  if (n < 2) return 0;
  let mean = 0;
  for (let j = 0; j < n; j++) mean += mus[j]!;
  mean /= n;
  let ss = 0;
  for (let j = 0; j < n; j++) ss += (mus[j]! - mean) ** 2;
  const std = Math.sqrt(ss / (n - 1));
  const sorted = Float64Array.from(mus.subarray(0, n)).sort();
  const q = (f: number) => {
    const pos = f * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(n - 1, lo + 1);
    return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
  };
  const iqr = q(0.75) - q(0.25);
  const spread = iqr > 0 ? Math.min(iqr / 1.34, std) : std;
  return 1.059 * spread * n ** -0.2;
}

/** An argsort of the observations, extended by the prior (the last kernel, after equal values). */
function withPrior(order: Int32Array, mus: Float64Array, prior: number): Int32Array {
  if (prior < 0) return order;
  const out = new Int32Array(order.length + 1);
  const v = mus[prior]!;
  let k = 0;
  while (k < order.length && mus[order[k]!]! <= v) {
    out[k] = order[k]!;
    k++;
  }
  out[k] = prior;
  out.set(order.subarray(k), k + 1);
  return out;
}

/** First index whose value is ≥ x (or > x with `after`), in a sorted array. */
function lowerBound(a: Float64Array, x: number, after = false): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x || (after && a[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Stable argsort of a Float64Array (ties keep index order), via a native sort of the values. */
function argsort(v: Float64Array): Int32Array {
  const n = v.length;
  const sorted = Float64Array.from(v).sort();
  const taken = new Int32Array(n);
  const out = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const x = v[j]!;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    out[lo + taken[lo]!++] = j;
  }
  return out;
}

function searchCum(cum: Float64Array, u: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid]! > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Indices of the best `k` rows by (stepKey, score, row), as a 0/1 mask. */
export function selectBelow(h: History, k: number): Uint8Array {
  const n = h.n;
  const mask = new Uint8Array(n);
  if (k <= 0) return mask;
  const best: number[] = [];
  const sk = h.stepKey;
  const sc = h.score;
  const worse = (a: number, b: number) => sk[a]! > sk[b]! || (sk[a] === sk[b] && (sc[a]! > sc[b]! || (sc[a] === sc[b] && a > b)));
  for (let r = 0; r < n; r++) {
    if (best.length === k && !worse(best[k - 1]!, r)) continue;
    let i = best.length === k ? k - 1 : best.length;
    if (best.length < k) best.push(r);
    while (i > 0 && worse(best[i - 1]!, r)) {
      best[i] = best[i - 1]!;
      i--;
    }
    best[i] = r;
  }
  for (const r of best) mask[r] = 1;
  return mask;
}

/**
 * Weights of the good observations by how much each improves on the split: the best bad
 * observation's score minus its own (Watanabe 2023's "EI" weighting). Undefined (plain weights)
 * unless every good row and the split are complete trials, whose scores compare.
 */
export function improvementWeights(h: History, rows: number[], below: Uint8Array): Float64Array | undefined {
  let threshold = Infinity;
  for (let r = 0; r < h.n; r++) if (below[r] === 0 && h.stepKey[r] === COMPLETE_STEP_KEY && h.score[r]! < threshold) threshold = h.score[r]!;
  if (!Number.isFinite(threshold) || rows.length === 0) return undefined;
  const w = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (h.stepKey[r] !== COMPLETE_STEP_KEY || !Number.isFinite(h.score[r]!)) return undefined;
    w[i] = Math.max(1e-12, threshold - h.score[r]!);
  }
  return w;
}

export class TpeSampler implements Sampler {
  readonly type = 'tpe';
  readonly options: TpeOptions;
  private belowCache?: { history: History; version: number; k: number; mask: Uint8Array };

  /** `preset` picks the base configuration ('default' unless given); the other options override it. */
  constructor(options: Partial<TpeOptions> & { preset?: TpePreset } = {}) {
    const { preset, ...rest } = options;
    this.options = { ...TPE_PRESETS[preset ?? 'default'], ...rest };
  }

  /** Whether trial `t` is one of the interleaved trials of fraction `f` (spread evenly over trial numbers). */
  private static every(f: number, t: number): boolean {
    return f > 0 && Math.floor((t + 1) * f) > Math.floor(t * f);
  }

  sampleRelative(ctx: SamplingContext, space: Space): Map<string, number> {
    const o = this.options;
    const names = Object.keys(space).filter((n) => cardinality(space[n]!) > 1);
    if (names.length === 0) return new Map();
    if (ctx.history.n < o.startupTrials) return o.startup === 'halton' ? this.startupPoint(ctx, space, names) : new Map();
    // Univariate trials (and univariate TPE altogether) sample each parameter on its own.
    if (!o.multivariate || TpeSampler.every(o.univariateShare, ctx.trialNumber)) return new Map();
    // The joint model covers the parameters that every finished trial has (Optuna's intersection
    // search space). In a conditional space (a choice decides which parameters exist) the others
    // are sampled one at a time, each from the trials that have it, instead of from the prior.
    const h = ctx.history;
    const joint = names.filter((n) => h.sortedLen[h.column(n, space[n]!)] === h.n);
    if (joint.length === 0) return new Map();
    return this.sample(ctx, joint.map((n) => [n, space[n]!]));
  }

  private halton?: { study: string; seq: ScrambledHalton };

  /** A startup trial from the scrambled Halton sequence: point `trialNumber`, parameters in name order. */
  private startupPoint(ctx: SamplingContext, space: Space, names: string[]): Map<string, number> {
    if (this.halton?.study !== ctx.studyName) this.halton = { study: ctx.studyName, seq: new ScrambledHalton(this.options.seed, ctx.studyName) };
    const seq = this.halton.seq;
    const out = new Map<string, number>();
    [...names].sort().forEach((n, j) => out.set(n, fromUnit(space[n]!, seq.value(ctx.trialNumber, j))));
    return out;
  }

  sampleIndependent(ctx: SamplingContext, name: string, dist: Distribution): number {
    if (cardinality(dist) <= 1) return dist.type === 'categorical' ? 0 : dist.low;
    if (ctx.history.n < this.options.startupTrials) return sampleUniform(ctx.rng, dist);
    // With a univariate share, a parameter sampled on its own gets the univariate estimator; else,
    // as in Optuna 3.1, the multivariate one restricted to it.
    return this.sample(ctx, [[name, dist]], this.options.univariateShare > 0).get(name)!;
  }

  private sample(ctx: SamplingContext, entries: [string, Distribution][], univariate = false): Map<string, number> {
    const h = ctx.history;
    const o = univariate && this.options.multivariate ? { ...this.options, multivariate: false } : this.options;
    const params = entries.map(([name, dist]) => paramInfo(name, dist, h.column(name, dist)));
    // The split is the same for every parameter of one ask: compute it once per history version.
    const k = o.gamma(h.n);
    const cached = this.belowCache;
    const below = cached && cached.history === h && cached.version === h.version && cached.k === k ? cached.mask : selectBelow(h, k);
    this.belowCache = { history: h, version: h.version, k, mask: below };
    // Rows that have every parameter, split into l (good) and g (bad), oldest first.
    const single = params.length === 1 && !params[0]!.cat && !o.multivariate;
    const pick = (wantBelow: boolean): { obs: Float64Array[]; m: number; rows: number[]; order?: Int32Array } => {
      const rows: number[] = [];
      for (let r = 0; r < h.n; r++) {
        if ((below[r] === 1) !== wantBelow) continue;
        let ok = true;
        for (const p of params) if (Number.isNaN(h.cols[p.col]![r]!)) ok = false;
        if (ok) rows.push(r);
      }
      const extra: ReadonlyMap<string, number>[] = [];
      if (!wantBelow && o.constantLiar) for (const run of ctx.running) if (params.every((p) => run.has(p.name))) extra.push(run);
      const m = rows.length + extra.length;
      const obs = params.map((p) => {
        const a = new Float64Array(m);
        const col = h.cols[p.col]!;
        for (let i = 0; i < rows.length; i++) a[i] = col[rows[i]!]!;
        for (let i = 0; i < extra.length; i++) a[rows.length + i] = extra[i]!.get(p.name)!;
        if (p.log) for (let i = 0; i < m; i++) a[i] = Math.log(a[i]!);
        return a;
      });
      if (!single) return { obs, m, rows };
      // The observations in value order, from the history's sorted column (no sort per ask).
      const c = params[0]!.col;
      const obsOf = new Int32Array(h.n).fill(-1);
      for (let i = 0; i < rows.length; i++) obsOf[rows[i]!] = i;
      const order = new Int32Array(m);
      let n = 0;
      const srt = h.sorted[c]!;
      for (let k2 = 0; k2 < h.sortedLen[c]!; k2++) {
        const i = obsOf[srt[k2]!]!;
        if (i >= 0) order[n++] = i;
      }
      // Running trials (constant liar) are few: insert them after equal values.
      const a = obs[0]!;
      for (let i = rows.length; i < m; i++) {
        let pos = n;
        while (pos > 0 && a[order[pos - 1]!]! > a[i]!) pos--;
        order.copyWithin(pos + 1, pos, n);
        order[pos] = i;
        n++;
      }
      return { obs, m, rows, order };
    };
    const l = pick(true);
    const g = pick(false);
    const wl = o.weighting === 'ei' ? improvementWeights(h, l.rows, below) : undefined;
    const mpeBelow = new ParzenEstimator(params, l.obs, l.m, o, l.order, wl);
    const mpeAbove = new ParzenEstimator(params, g.obs, g.m, o, g.order);
    const size = o.candidates;
    const samples = mpeBelow.sample(ctx.rng, size);
    const ll = mpeBelow.logPdf(samples, size);
    const lg = mpeAbove.logPdf(samples, size);
    let best = 0;
    let bestScore = -Infinity;
    for (let s = 0; s < size; s++) {
      const sc = ll[s]! - lg[s]!;
      if (sc > bestScore) {
        bestScore = sc;
        best = s;
      }
    }
    const out = new Map<string, number>();
    for (const [pi, p] of params.entries()) out.set(p.name, samples[pi]![best]!);
    return out;
  }
}
