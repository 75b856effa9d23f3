/**
 * Special functions for the Parzen estimators: erf/erfc (FreeBSD msun s_erf.c, Sun
 * Microsystems 1993, freely redistributable), the normal CDF and its logarithm, its inverse,
 * and the log-mass of a normal distribution over an interval, all in float64.
 */

const erx = 8.45062911510467529297e-1;
const efx = 1.28379167095512586316e-1;
const pp0 = 1.28379167095512558561e-1;
const pp1 = -3.25042107247001499370e-1;
const pp2 = -2.84817495755985104766e-2;
const pp3 = -5.77027029648944159157e-3;
const pp4 = -2.37630166566501626084e-5;
const qq1 = 3.97917223959155352819e-1;
const qq2 = 6.50222499887672944485e-2;
const qq3 = 5.08130628187576562776e-3;
const qq4 = 1.32494738004321644526e-4;
const qq5 = -3.96022827877536812320e-6;
const pa0 = -2.36211856075265944077e-3;
const pa1 = 4.14856118683748331666e-1;
const pa2 = -3.72207876035701323847e-1;
const pa3 = 3.18346619901161753674e-1;
const pa4 = -1.10894694282396677476e-1;
const pa5 = 3.54783043256182359371e-2;
const pa6 = -2.16637559486879084300e-3;
const qa1 = 1.06420880400844228286e-1;
const qa2 = 5.40397917702171048937e-1;
const qa3 = 7.18286544141962662868e-2;
const qa4 = 1.26171219808761642112e-1;
const qa5 = 1.36370839120290507362e-2;
const qa6 = 1.19844998467991074170e-2;
const ra0 = -9.86494403484714822705e-3;
const ra1 = -6.93858572707181764372e-1;
const ra2 = -1.05586262253232909814e1;
const ra3 = -6.23753324503260060396e1;
const ra4 = -1.62396669462573470355e2;
const ra5 = -1.84605092906711035994e2;
const ra6 = -8.12874355063065934246e1;
const ra7 = -9.81432934416914548592;
const sa1 = 1.96512716674392571292e1;
const sa2 = 1.37657754143519042600e2;
const sa3 = 4.34565877475229228821e2;
const sa4 = 6.45387271733267880336e2;
const sa5 = 4.29008140027567833386e2;
const sa6 = 1.08635005541779435134e2;
const sa7 = 6.57024977031928170135;
const sa8 = -6.04244152148580987438e-2;
const rb0 = -9.86494292470009928597e-3;
const rb1 = -7.99283237680523006574e-1;
const rb2 = -1.77579549177547519889e1;
const rb3 = -1.60636384855821916062e2;
const rb4 = -6.37566443368389627722e2;
const rb5 = -1.02509513161107724954e3;
const rb6 = -4.83519191608651397019e2;
const sb1 = 3.03380607434824582924e1;
const sb2 = 3.25792512996573918826e2;
const sb3 = 1.53672958608443695994e3;
const sb4 = 3.19985821950859553908e3;
const sb5 = 2.55305040643316442583e3;
const sb6 = 4.74528541206955367215e2;
const sb7 = -2.24409524465858183362e1;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;

/** `x` with the low 32 bits of its mantissa cleared (fdlibm's SET_LOW_WORD(z, 0)). */
function truncLow(x: number): number {
  f64[0] = x;
  u32[LOW] = 0;
  return f64[0];
}

/** exp(-x²-0.5625)·exp(R/S)/x for |x| ≥ 1.25, computed without losing bits in -x². */
function tail(ax: number): number {
  const s = 1 / (ax * ax);
  let R: number;
  let S: number;
  if (ax < 1 / 0.35) {
    R = ra0 + s * (ra1 + s * (ra2 + s * (ra3 + s * (ra4 + s * (ra5 + s * (ra6 + s * ra7))))));
    S = 1 + s * (sa1 + s * (sa2 + s * (sa3 + s * (sa4 + s * (sa5 + s * (sa6 + s * (sa7 + s * sa8)))))));
  } else {
    R = rb0 + s * (rb1 + s * (rb2 + s * (rb3 + s * (rb4 + s * (rb5 + s * rb6)))));
    S = 1 + s * (sb1 + s * (sb2 + s * (sb3 + s * (sb4 + s * (sb5 + s * (sb6 + s * sb7))))));
  }
  const z = truncLow(ax);
  return (Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + R / S)) / ax;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 0.84375) {
    if (ax < 2 ** -28) return x + efx * x;
    const z = x * x;
    const r = pp0 + z * (pp1 + z * (pp2 + z * (pp3 + z * pp4)));
    const s = 1 + z * (qq1 + z * (qq2 + z * (qq3 + z * (qq4 + z * qq5))));
    return x + x * (r / s);
  }
  if (ax < 1.25) {
    const s = ax - 1;
    const P = pa0 + s * (pa1 + s * (pa2 + s * (pa3 + s * (pa4 + s * (pa5 + s * pa6)))));
    const Q = 1 + s * (qa1 + s * (qa2 + s * (qa3 + s * (qa4 + s * (qa5 + s * qa6)))));
    return x >= 0 ? erx + P / Q : -erx - P / Q;
  }
  if (ax >= 6) return x >= 0 ? 1 : -1;
  const r = tail(ax);
  return x >= 0 ? 1 - r : r - 1;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 0.84375) {
    if (ax < 2 ** -56) return 1 - x;
    const z = x * x;
    const r = pp0 + z * (pp1 + z * (pp2 + z * (pp3 + z * pp4)));
    const s = 1 + z * (qq1 + z * (qq2 + z * (qq3 + z * (qq4 + z * qq5))));
    const y = r / s;
    if (x < 0.25) return 1 - (x + x * y);
    return 0.5 - (x - 0.5 + x * y);
  }
  if (ax < 1.25) {
    const s = ax - 1;
    const P = pa0 + s * (pa1 + s * (pa2 + s * (pa3 + s * (pa4 + s * (pa5 + s * pa6)))));
    const Q = 1 + s * (qa1 + s * (qa2 + s * (qa3 + s * (qa4 + s * (qa5 + s * qa6)))));
    return x >= 0 ? 1 - erx - P / Q : 1 + erx + P / Q;
  }
  if (ax < 28) {
    if (x < -6) return 2;
    const r = tail(ax);
    return x > 0 ? r : 2 - r;
  }
  return x > 0 ? 0 : 2;
}

const SQRT1_2 = Math.SQRT1_2;
export const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Standard normal CDF Φ(x), accurate in both tails. */
export function ndtr(x: number): number {
  return 0.5 * erfc(-x * SQRT1_2);
}

/** log Φ(x), accurate far into the left tail (asymptotic series below -20). */
export function logNdtr(x: number): number {
  if (x > 6) return -ndtr(-x);
  if (x > -20) return Math.log(ndtr(x));
  const lhs = -0.5 * x * x - Math.log(-x) - LOG_SQRT_2PI;
  let last = 0;
  let rhs = 1;
  let num = 1;
  let denom = 1;
  const cons = 1 / (x * x);
  let sign = 1;
  for (let i = 1; Math.abs(last - rhs) > Number.EPSILON && i < 50; i++) {
    last = rhs;
    sign = -sign;
    denom *= cons;
    num *= 2 * i - 1;
    rhs += sign * num * denom;
  }
  return lhs + Math.log(rhs);
}

/** log(e^p - e^q) for p ≥ q. */
function logDiff(p: number, q: number): number {
  return p + Math.log1p(-Math.exp(q - p));
}

/** log of the standard normal mass on [a, b] (a ≤ b), stable in both tails. */
export function logGaussMass(a: number, b: number): number {
  // Both ends beyond 8.3σ: the mass is 1 to double precision.
  if (a < -8.3 && b > 8.3) return 0;
  if (b <= 0) {
    // Left tail: the plain difference is exact enough unless it underflows or cancels.
    const pb = ndtr(b);
    const pa = ndtr(a);
    if (pb > 1e-280 && pb - pa > 1e-8 * pb) return Math.log(pb - pa);
    return a === -Infinity ? logNdtr(b) : logDiff(logNdtr(b), logNdtr(a));
  }
  if (a > 0) return logGaussMass(-b, -a);
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

// Acklam's rational approximation of the normal quantile, refined by one Halley step.
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** Φ⁻¹(p) for p in (0, 1); ±Infinity at the ends. */
export function ndtri(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  } else if (p <= 1 - 0.02425) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) / (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log1p(-p));
    x = -(((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  }
  // One Halley step against the exact CDF brings it to full double precision.
  const e = ndtr(x) - p;
  const u = e * SQRT_2PI * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

/**
 * A draw from the standard normal truncated to [a, b] (a ≤ 0 ≤ b in our use, but any a < b
 * works), by inversion of the CDF with `u` uniform in [0, 1). Works in whichever tail keeps
 * the arithmetic exact.
 */
export function truncnormPpf(u: number, a: number, b: number): number {
  let x: number;
  if (a >= 0) {
    // Right tail: mirror into the left one.
    const pa = ndtr(-b);
    const pb = ndtr(-a);
    x = -ndtri(pb - u * (pb - pa));
  } else if (b <= 0) {
    const pa = ndtr(a);
    const pb = ndtr(b);
    x = ndtri(pa + u * (pb - pa));
  } else {
    const pa = ndtr(a);
    const mass = 1 - pa - ndtr(-b);
    const p = pa + u * mass;
    x = p <= 0.5 ? ndtri(p) : -ndtri(ndtr(-b) + (1 - u) * mass);
  }
  if (!(x >= a)) return a;
  if (!(x <= b)) return b;
  return x;
}
