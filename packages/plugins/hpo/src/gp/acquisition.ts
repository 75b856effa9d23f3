/**
 * Log expected improvement (Ament et al. 2023, "Unexpected improvements to expected improvement
 * for Bayesian optimization") and its maximisation over the unit box from several starts.
 *
 * For minimisation with incumbent f*, EI(x) = σ h(z), z = (f* − μ)/σ, h(z) = φ(z) + zΦ(z). EI
 * underflows to 0 far from the incumbent, where a gradient-based optimiser then sees a flat
 * landscape; log h(z) is computed stably instead: directly for z > −1, as
 * log φ(z) + log1p(z Φ(z)/φ(z)) with both factors in logs down to z = −25, and by the asymptotic
 * expansion log φ(z) − 2 log|z| + log(1 − 3/z² + 15/z⁴) below.
 */
import { LOG_SQRT_2PI, logNdtr, ndtr } from '../math.js';
import type { Rng } from '../rng.js';
import type { Posterior } from './model.js';

const logPhi = (z: number) => -0.5 * z * z - LOG_SQRT_2PI;

/** log h(z), h(z) = φ(z) + zΦ(z). */
export function logH(z: number): number {
  if (z > -1) return Math.log(Math.exp(logPhi(z)) + z * ndtr(z));
  if (z > -25) return logPhi(z) + Math.log1p(z * Math.exp(logNdtr(z) - logPhi(z)));
  const z2 = z * z;
  return logPhi(z) - Math.log(z2) + Math.log1p(-3 / z2 + 15 / (z2 * z2));
}

/** log EI for minimisation, with its partial derivatives in μ and σ. */
export function logEI(mu: number, sd: number, best: number): { value: number; dMu: number; dSd: number } {
  const z = (best - mu) / sd;
  const lh = logH(z);
  // d log h / dz = Φ(z)/h(z); h − zΦ = φ.
  const phiOverH = Math.exp(logPhi(z) - lh);
  const cdfOverH = Math.exp(logNdtr(z) - lh);
  return { value: Math.log(sd) + lh, dMu: -cdfOverH / sd, dSd: phiOverH / sd };
}

export interface AcquisitionSpace {
  D: number;
  /** Choices per dimension: 0 for numeric ([0, 1]), the number of choices for categoricals. */
  choices: Int32Array;
  /**
   * For spaces with conditional parameters: writes into `out` the point the model sees for the
   * candidate `x` (inactive numeric coordinates NaN, inactive categoricals −1). Candidates keep a
   * value in every coordinate, so a choice switched on later has one.
   */
  mask?: (x: Float64Array, out: Float64Array) => void;
}

export interface MaximizeOptions {
  /** Random points to screen. */
  random: number;
  /** Perturbations around each of the best observed points. */
  local: number;
  /** Best observed points to perturb. */
  around: Float64Array[];
  /** Starts refined by gradient ascent. */
  starts: number;
  /** Iterations of each refinement. */
  iterations: number;
}

/**
 * Maximises log EI: screens random and local candidates, refines the best few by projected
 * gradient ascent over the numeric coordinates (categoricals fixed), then tries every other
 * value of each categorical at the winner. Returns the point in the unit box (categoricals as
 * indices; with a mask, as the model sees it: inactive coordinates NaN or −1) and its log EI.
 */
export function maximizeLogEI(post: Posterior, best: number, space: AcquisitionSpace, rng: Rng, o: MaximizeOptions): { x: Float64Array; value: number } {
  const { D, choices, mask } = space;
  const seen = new Float64Array(D);
  const view = (x: Float64Array) => {
    if (!mask) return x;
    mask(x, seen);
    return seen;
  };
  const score = (x: Float64Array) => {
    const p = post.predict(view(x));
    return logEI(p.mu, p.sd, best).value;
  };
  const total = o.random + o.local * o.around.length;
  const cand = new Float64Array(total * D);
  let c = 0;
  for (let s = 0; s < o.random; s++, c++) {
    for (let d = 0; d < D; d++) cand[c * D + d] = choices[d]! > 0 ? rng.int(choices[d]!) : rng.random();
  }
  for (const base of o.around) {
    for (let s = 0; s < o.local; s++, c++) {
      for (let d = 0; d < D; d++) {
        // An observed point's inactive coordinate (conditional spaces only) gets a random value.
        const b = choices[d]! > 0 ? (base[d]! < 0 ? rng.int(choices[d]!) : base[d]!) : Number.isNaN(base[d]!) ? rng.random() : base[d]!;
        if (choices[d]! > 0) cand[c * D + d] = rng.random() < 0.2 ? rng.int(choices[d]!) : b;
        else cand[c * D + d] = Math.min(1, Math.max(0, b + 0.1 * gauss(rng)));
      }
    }
  }
  const vals = new Float64Array(total);
  for (let i = 0; i < total; i++) vals[i] = score(cand.subarray(i * D, (i + 1) * D));
  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => vals[b]! - vals[a]! || a - b);
  let bestX: Float64Array = cand.slice(order[0]! * D, order[0]! * D + D);
  let bestV = vals[order[0]!]!;
  const grad = { mu: new Float64Array(D), sd: new Float64Array(D) };
  for (let k = 0; k < Math.min(o.starts, total); k++) {
    const r = refine(post, best, space, cand.slice(order[k]! * D, order[k]! * D + D), vals[order[k]!]!, o.iterations, grad, view);
    if (r.value > bestV) {
      bestV = r.value;
      bestX = r.x;
    }
  }
  // One sweep over the categoricals at the winner.
  for (let d = 0; d < D; d++) {
    if (choices[d]! === 0) continue;
    let keep = bestX[d]!;
    for (let v = 0; v < choices[d]!; v++) {
      if (v === keep) continue;
      bestX[d] = v;
      const s = score(bestX);
      if (s > bestV) {
        bestV = s;
        keep = v;
      }
      bestX[d] = keep;
    }
  }
  return { x: mask ? Float64Array.from(view(bestX)) : bestX, value: bestV };
}

/** Projected gradient ascent with a step that grows on success and halves on failure. */
function refine(
  post: Posterior,
  best: number,
  space: AcquisitionSpace,
  x0: Float64Array,
  v0: number,
  iterations: number,
  grad: { mu: Float64Array; sd: Float64Array },
  view: (x: Float64Array) => Float64Array,
): { x: Float64Array; value: number } {
  const { D, choices } = space;
  let x: Float64Array = x0;
  let v = v0;
  let step = 0.05;
  const g = new Float64Array(D);
  const evalGrad = (at: Float64Array) => {
    const p = post.predict(view(at), 0, grad);
    const e = logEI(p.mu, p.sd, best);
    let norm = 0;
    for (let d = 0; d < D; d++) {
      g[d] = choices[d]! > 0 ? 0 : e.dMu * grad.mu[d]! + e.dSd * grad.sd[d]!;
      norm += g[d]! * g[d]!;
    }
    return { value: e.value, norm: Math.sqrt(norm) };
  };
  let cur = evalGrad(x);
  for (let it = 0; it < iterations && cur.norm > 1e-9 && step > 1e-6; it++) {
    const xn = new Float64Array(D);
    for (let d = 0; d < D; d++) xn[d] = choices[d]! > 0 ? x[d]! : Math.min(1, Math.max(0, x[d]! + (step * g[d]!) / cur.norm));
    const p = post.predict(view(xn));
    const vn = logEI(p.mu, p.sd, best).value;
    if (vn > v) {
      x = xn;
      v = vn;
      step *= 1.5;
      cur = evalGrad(x);
    } else step *= 0.5;
  }
  return { x, value: v };
}

function gauss(rng: Rng): number {
  const u = Math.max(rng.random(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.random());
}
