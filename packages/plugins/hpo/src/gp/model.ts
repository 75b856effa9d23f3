/**
 * A Gaussian-process regression model (Rasmussen & Williams 2006, ch. 2 and 5): a Matérn-5/2
 * kernel with one length scale per input dimension (automatic relevance determination), a signal
 * variance and a noise variance, fitted by maximising the log marginal likelihood plus a weak
 * log-normal prior on each hyperparameter (a MAP estimate), on log-parameters.
 *
 * Inputs are in [0, 1] per numeric dimension. A categorical dimension holds the choice's index
 * and enters the distance as a Hamming term: 1/ℓ² when two points differ, 0 when they agree, so
 * the kernel is still Matérn-5/2 of one distance and each choice's relevance has its own ℓ.
 *
 * Conditional parameters (ones a trial has only for some choices of a categorical): an inactive
 * numeric value is NaN, and the dimension's term is 0 when both points lack it and 1/ℓ² (as far
 * apart as the two ends of the range) when only one has it; an inactive categorical is the index
 * −1, a choice of its own for the Hamming term. Dimensions that are never inactive are unchanged.
 */
import { cholesky, solveLower, solveUpper, cholInverse } from './linalg.js';

const SQRT5 = Math.sqrt(5);

/** The training data, standardised: X is n×D row-major, y has mean 0 and variance 1. */
export interface GpData {
  X: Float64Array;
  y: Float64Array;
  n: number;
  D: number;
  /** 1 where the dimension is categorical, 2 where it is numeric and may be inactive (NaN), else 0. */
  cat: Uint8Array;
}

/**
 * Hyperparameters as one vector of logs: θ = [log ℓ_1 .. log ℓ_D, log σ_f², log σ_n²].
 */
export type Theta = Float64Array;

/** Box bounds on θ, and the prior's centre and width per entry. */
export interface ThetaPrior {
  lo: Float64Array;
  hi: Float64Array;
  mu: Float64Array;
  sd: Float64Array;
}

/**
 * The prior on θ. Length scales: log ℓ ~ N(√2 + ½ log D, √3), the dimension-scaled prior of
 * Hvarfner et al. (2024, "Vanilla Bayesian optimization performs great in high dimensions"), so
 * that more dimensions start smoother. Signal variance (y is standardised): log σ_f² ~ N(0, 1).
 * Noise: log σ_n² ~ N(log 1e-6, 1), in [1e-6, 0.5]: the model nearly interpolates, as trainings
 * with a seed give the same loss for the same parameters; a noisier objective can still fit more
 * noise where the data demand it. (Centred on 1e-4 with width 2 before: ripples such as
 * Rastrigin's were explained away as noise. docs/hpo.md, *Quality and the GP*, has the sweep.)
 */
export function thetaPrior(D: number): ThetaPrior {
  const P = D + 2;
  const lo = new Float64Array(P);
  const hi = new Float64Array(P);
  const mu = new Float64Array(P);
  const sd = new Float64Array(P);
  for (let d = 0; d < D; d++) {
    lo[d] = Math.log(0.01);
    hi[d] = Math.log(100);
    mu[d] = Math.SQRT2 + 0.5 * Math.log(D);
    sd[d] = Math.sqrt(3);
  }
  lo[D] = Math.log(0.05);
  hi[D] = Math.log(20);
  mu[D] = 0;
  sd[D] = 1;
  lo[D + 1] = Math.log(1e-6);
  hi[D + 1] = Math.log(0.5);
  mu[D + 1] = Math.log(1e-6);
  sd[D + 1] = 1;
  return { lo, hi, mu, sd };
}

/** The prior's mode, clipped into the bounds: the first start of every fit. */
export function priorMode(p: ThetaPrior): Theta {
  const t = new Float64Array(p.mu.length);
  for (let i = 0; i < t.length; i++) t[i] = Math.min(p.hi[i]!, Math.max(p.lo[i]!, p.mu[i]!));
  return t;
}

/** Squared scaled distance between rows i of X and `x` (a point): Σ_d s_d. */
function r2Of(X: Float64Array, i: number, x: Float64Array, xo: number, D: number, cat: Uint8Array, invL2: Float64Array): number {
  let r2 = 0;
  const ri = i * D;
  for (let d = 0; d < D; d++) {
    if (cat[d] === 1) {
      if (X[ri + d] !== x[xo + d]) r2 += invL2[d]!;
    } else {
      const dx = X[ri + d]! - x[xo + d]!;
      if (dx === dx) r2 += dx * dx * invL2[d]!;
      else if (Number.isNaN(X[ri + d]!) !== Number.isNaN(x[xo + d]!)) r2 += invL2[d]!;
    }
  }
  return r2;
}

/** Matérn-5/2 correlation of a squared distance. */
export function matern52(r2: number): number {
  const r = Math.sqrt(r2);
  return (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
}

/**
 * The per-pair, per-dimension squared differences of the training inputs (a categorical: 1 where
 * the two choices differ), computed once per fit: every evaluation of the likelihood reuses them.
 */
export function pairTerms(data: GpData): Float64Array {
  const { X, n, D, cat } = data;
  const out = new Float64Array(((n * (n - 1)) / 2) * D);
  let o = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      for (let d = 0; d < D; d++, o++) {
        const a = X[i * D + d]!;
        const b = X[j * D + d]!;
        out[o] = cat[d] === 1 ? (a !== b ? 1 : 0) : a === a && b === b ? (a - b) * (a - b) : Number.isNaN(a) !== Number.isNaN(b) ? 1 : 0;
      }
    }
  }
  return out;
}

/**
 * The negative log posterior of θ (−log marginal likelihood − log prior, constants dropped) and
 * its gradient, from ∂L/∂θ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ) (Rasmussen & Williams eq. 5.9). `pairs` is
 * pairTerms(data).
 */
export function negLogPosterior(theta: Theta, data: GpData, prior: ThetaPrior, pairs: Float64Array = pairTerms(data)): { value: number; grad: Float64Array } {
  const { y, n, D } = data;
  const invL2 = new Float64Array(D);
  for (let d = 0; d < D; d++) invL2[d] = Math.exp(-2 * theta[d]!);
  const sf2 = Math.exp(theta[D]!);
  const sn2 = Math.exp(theta[D + 1]!);
  const K = new Float64Array(n * n);
  // Per pair (lower triangle, in pairTerms' order): (1 + √5 r) e^{−√5 r}, for the gradient.
  const fac = new Float64Array((n * (n - 1)) / 2);
  let o = 0;
  let p = 0;
  for (let i = 0; i < n; i++) {
    K[i * n + i] = sf2 + sn2;
    for (let j = 0; j < i; j++, p++) {
      let r2 = 0;
      for (let d = 0; d < D; d++, o++) r2 += pairs[o]! * invL2[d]!;
      const r = Math.sqrt(r2);
      const e = Math.exp(-SQRT5 * r);
      fac[p] = (1 + SQRT5 * r) * e;
      const v = sf2 * (fac[p]! + (5 / 3) * r2 * e);
      K[i * n + j] = v;
      K[j * n + i] = v;
    }
  }
  const { L } = cholesky(K, n);
  const alpha = solveUpper(L, n, solveLower(L, n, y));
  let value = 0;
  for (let i = 0; i < n; i++) value += 0.5 * y[i]! * alpha[i]! + Math.log(L[i * n + i]!);
  const Kinv = cholInverse(L, n);
  const grad = new Float64Array(D + 2);
  // W = ααᵀ − K⁻¹; dL/dθ = ½ Σ_ij W_ij ∂K_ij/∂θ, and we minimise −L.
  let trDiag = 0;
  let trSignal = 0;
  o = 0;
  p = 0;
  for (let i = 0; i < n; i++) {
    const wii = alpha[i]! * alpha[i]! - Kinv[i * n + i]!;
    trDiag += wii;
    trSignal += wii * sf2;
    for (let j = 0; j < i; j++, p++) {
      const wij = alpha[i]! * alpha[j]! - Kinv[i * n + j]!;
      trSignal += 2 * wij * K[i * n + j]!;
      // ∂k/∂log ℓ_d = σ_f² (5/3)(1 + √5 r) e^{−√5 r} s_d, with s_d = pairs·invL2 this dimension's term of r².
      const g = 2 * wij * sf2 * (5 / 3) * fac[p]!;
      for (let d = 0; d < D; d++, o++) grad[d]! += g * pairs[o]!;
    }
  }
  for (let d = 0; d < D; d++) grad[d] = -0.5 * grad[d]! * invL2[d]!;
  grad[D] = -0.5 * trSignal;
  grad[D + 1] = -0.5 * trDiag * sn2;
  for (let q = 0; q < D + 2; q++) {
    const z = (theta[q]! - prior.mu[q]!) / prior.sd[q]!;
    value += 0.5 * z * z;
    grad[q]! += z / prior.sd[q]!;
  }
  return { value, grad };
}

/**
 * Minimises f over the box [lo, hi] by L-BFGS with projection onto the box and a backtracking
 * (Armijo) line search: a small L-BFGS-B for a few dozen parameters. Returns the best point.
 */
export function minimizeBox(
  f: (x: Float64Array) => { value: number; grad: Float64Array },
  x0: Float64Array,
  lo: Float64Array,
  hi: Float64Array,
  maxIter: number,
  memory = 6,
  tolerance = 1e-7,
): { x: Float64Array; value: number; evals: number } {
  const P = x0.length;
  const clamp = (x: Float64Array) => {
    for (let i = 0; i < P; i++) x[i] = Math.min(hi[i]!, Math.max(lo[i]!, x[i]!));
    return x;
  };
  let x = clamp(Float64Array.from(x0));
  let cur = f(x);
  let evals = 1;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  for (let it = 0; it < maxIter; it++) {
    // Free variables: not at a bound with the gradient pushing outwards.
    const free = new Uint8Array(P);
    for (let i = 0; i < P; i++) free[i] = (x[i]! <= lo[i]! && cur.grad[i]! > 0) || (x[i]! >= hi[i]! && cur.grad[i]! < 0) ? 0 : 1;
    const q = new Float64Array(P);
    for (let i = 0; i < P; i++) q[i] = free[i] ? cur.grad[i]! : 0;
    const a = new Float64Array(S.length);
    for (let k = S.length - 1; k >= 0; k--) {
      const rho = 1 / dot(Y[k]!, S[k]!);
      a[k] = rho * dot(S[k]!, q);
      for (let i = 0; i < P; i++) q[i]! -= a[k]! * Y[k]![i]!;
    }
    const gamma = S.length > 0 ? dot(S[S.length - 1]!, Y[Y.length - 1]!) / dot(Y[Y.length - 1]!, Y[Y.length - 1]!) : 1 / Math.max(1, Math.sqrt(dot(q, q)));
    for (let i = 0; i < P; i++) q[i]! *= gamma;
    for (let k = 0; k < S.length; k++) {
      const rho = 1 / dot(Y[k]!, S[k]!);
      const b = rho * dot(Y[k]!, q);
      for (let i = 0; i < P; i++) q[i]! += S[k]![i]! * (a[k]! - b);
    }
    for (let i = 0; i < P; i++) if (!free[i]) q[i] = 0;
    // q is the ascent direction of the quadratic model; step along −q.
    let slope = -dot(cur.grad, q);
    if (!(slope < 0)) {
      for (let i = 0; i < P; i++) q[i] = free[i] ? cur.grad[i]! : 0;
      slope = -dot(cur.grad, q);
      S.length = 0;
      Y.length = 0;
      if (!(slope < -1e-12)) break;
    }
    let step = 1;
    let next: { value: number; grad: Float64Array } | undefined;
    let xn = x;
    for (let ls = 0; ls < 20; ls++) {
      xn = clamp(Float64Array.from(x, (v, i) => v - step * q[i]!));
      let moved = 0;
      for (let i = 0; i < P; i++) moved += (xn[i]! - x[i]!) * cur.grad[i]!;
      const cand = f(xn);
      evals++;
      if (Number.isFinite(cand.value) && cand.value <= cur.value + 1e-4 * moved) {
        next = cand;
        break;
      }
      step *= 0.5;
    }
    if (!next) break;
    const s = Float64Array.from(xn, (v, i) => v - x[i]!);
    const yv = Float64Array.from(next.grad, (v, i) => v - cur.grad[i]!);
    const improvement = cur.value - next.value;
    x = xn;
    cur = next;
    if (dot(s, yv) > 1e-10) {
      S.push(s);
      Y.push(yv);
      if (S.length > memory) {
        S.shift();
        Y.shift();
      }
    }
    if (improvement < tolerance * Math.max(1, Math.abs(cur.value))) break;
  }
  return { x, value: cur.value, evals };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** A fitted GP's posterior over the latent function, for the acquisition. */
export class Posterior {
  readonly n: number;
  readonly D: number;
  private readonly L: Float64Array;
  private readonly alpha: Float64Array;
  private readonly invL2: Float64Array;
  readonly sf2: number;
  private readonly kbuf: Float64Array;
  private readonly dk: Float64Array;
  private readonly vbuf: Float64Array;
  private readonly wbuf: Float64Array;

  constructor(
    readonly data: GpData,
    theta: Theta,
  ) {
    const { X, y, n, D, cat } = data;
    this.n = n;
    this.D = D;
    this.invL2 = new Float64Array(D);
    for (let d = 0; d < D; d++) this.invL2[d] = Math.exp(-2 * theta[d]!);
    this.sf2 = Math.exp(theta[D]!);
    const sn2 = Math.exp(theta[D + 1]!);
    const K = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      K[i * n + i] = this.sf2 + sn2;
      for (let j = 0; j < i; j++) {
        const v = this.sf2 * matern52(r2Of(X, i, X, j * D, D, cat, this.invL2));
        K[i * n + j] = v;
        K[j * n + i] = v;
      }
    }
    this.L = cholesky(K, n).L;
    this.alpha = solveUpper(this.L, n, solveLower(this.L, n, y));
    this.kbuf = new Float64Array(n);
    this.dk = new Float64Array(n);
    this.vbuf = new Float64Array(n);
    this.wbuf = new Float64Array(n);
  }

  /**
   * Mean and standard deviation of f(x) (x: D values at offset xo), and, when `grad` is given,
   * their gradients with respect to the numeric coordinates of x (0 for categorical and
   * inactive ones).
   */
  predict(x: Float64Array, xo = 0, grad?: { mu: Float64Array; sd: Float64Array }): { mu: number; sd: number } {
    const { X, n, D, cat } = this.data;
    const k = this.kbuf;
    const dk = this.dk;
    let mu = 0;
    for (let i = 0; i < n; i++) {
      const r2 = r2Of(X, i, x, xo, D, cat, this.invL2);
      const r = Math.sqrt(r2);
      const e = Math.exp(-SQRT5 * r);
      k[i] = this.sf2 * (1 + SQRT5 * r + (5 / 3) * r2) * e;
      // ∂k/∂x_d = −σ_f² (5/3)(1 + √5 r) e^{−√5 r} (x_d − X_id) / ℓ_d²: dk holds the common factor.
      dk[i] = -this.sf2 * (5 / 3) * (1 + SQRT5 * r) * e;
      mu += k[i]! * this.alpha[i]!;
    }
    const v = solveLower(this.L, n, k, this.vbuf);
    let kk = 0;
    for (let i = 0; i < n; i++) kk += v[i]! * v[i]!;
    const variance = Math.max(1e-12, this.sf2 - kk);
    const sd = Math.sqrt(variance);
    if (grad) {
      const w = solveUpper(this.L, n, v, this.wbuf);
      grad.mu.fill(0);
      grad.sd.fill(0);
      for (let d = 0; d < D; d++) {
        if (cat[d] === 1) continue;
        let gm = 0;
        let gv = 0;
        const xd = x[xo + d]!;
        // An inactive coordinate (NaN) does not move the prediction.
        if (xd !== xd) continue;
        for (let i = 0; i < n; i++) {
          const diff = xd - X[i * D + d]!;
          if (diff !== diff) continue;
          const dki = dk[i]! * diff * this.invL2[d]!;
          gm += this.alpha[i]! * dki;
          gv += w[i]! * dki;
        }
        grad.mu[d] = gm;
        // σ² = σ_f² − kᵀK⁻¹k, so ∂σ²/∂x = −2 (K⁻¹k)ᵀ ∂k/∂x and ∂σ = ∂σ² / (2σ).
        grad.sd[d] = -gv / sd;
      }
    }
    return { mu, sd };
  }
}
