/**
 * The little dense linear algebra a Gaussian process needs, on row-major Float64Arrays: a
 * Cholesky factorisation (with growing jitter when the matrix is not numerically positive
 * definite), triangular solves, and the inverse from the factor.
 */

/**
 * Lower Cholesky factor of the n×n symmetric matrix `a` (only its lower triangle is read), in
 * place of a copy. Adds jitter to the diagonal, 1e-10 then ×10 per try, until it succeeds.
 * Returns the factor and the jitter that was added.
 */
export function cholesky(a: Float64Array, n: number): { L: Float64Array; jitter: number } {
  for (let jitter = 0, tries = 0; tries < 12; tries++, jitter = jitter === 0 ? 1e-10 : jitter * 10) {
    const L = choleskyOnce(a, n, jitter);
    if (L) return { L, jitter };
  }
  throw new Error(`cholesky: the ${n}×${n} matrix is not positive definite even with jitter`);
}

function choleskyOnce(a: Float64Array, n: number, jitter: number): Float64Array | undefined {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j]! + jitter;
    for (let k = 0; k < j; k++) d -= L[rj + k]! * L[rj + k]!;
    if (!(d > 0)) return undefined;
    const ljj = Math.sqrt(d);
    L[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= L[ri + k]! * L[rj + k]!;
      L[ri + j] = s * inv;
    }
  }
  return L;
}

/** Solves L x = b (L lower triangular), into `out` (may be b). */
export function solveLower(L: Float64Array, n: number, b: Float64Array, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[ri + k]! * out[k]!;
    out[i] = s / L[ri + i]!;
  }
  return out;
}

/** Solves Lᵀ x = b (L lower triangular), into `out` (may be b). */
export function solveUpper(L: Float64Array, n: number, b: Float64Array, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * out[k]!;
    out[i] = s / L[i * n + i]!;
  }
  return out;
}

/** K⁻¹ b from the Cholesky factor of K. */
export function cholSolve(L: Float64Array, n: number, b: Float64Array): Float64Array {
  const y = solveLower(L, n, b);
  return solveUpper(L, n, y, y);
}

/** K⁻¹ (full, symmetric) from the Cholesky factor of K: L⁻¹ first, then L⁻ᵀ L⁻¹. */
export function cholInverse(L: Float64Array, n: number): Float64Array {
  // M = L⁻¹ (lower triangular), column by column.
  const M = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    M[j * n + j] = 1 / L[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      const ri = i * n;
      for (let k = j; k < i; k++) s -= L[ri + k]! * M[k * n + j]!;
      M[ri + j] = s / L[ri + i]!;
    }
  }
  // K⁻¹ = Mᵀ M: (i, j) = Σ_{k ≥ max(i, j)} M[k, i] M[k, j].
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += M[k * n + i]! * M[k * n + j]!;
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}
