// The benchmark's test functions, written against the trial API (as optuna_bench.py writes them for Optuna).

export function branin(t) {
  const x1 = t.suggestFloat('x1', -5, 10);
  const x2 = t.suggestFloat('x2', 0, 15);
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const tt = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - tt) * Math.cos(x1) + 10;
}

const ALPHA = [1.0, 1.2, 3.0, 3.2];
const A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const P = [
  [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
  [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
  [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.665],
  [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];

export function hartmann6(t) {
  const x = Array.from({ length: 6 }, (_, i) => t.suggestFloat(`x${i}`, 0, 1));
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let e = 0;
    for (let j = 0; j < 6; j++) e += A[i][j] * (x[j] - P[i][j]) ** 2;
    s += ALPHA[i] * Math.exp(-e);
  }
  return -s;
}

export function rosenbrock5(t) {
  const x = Array.from({ length: 5 }, (_, i) => t.suggestFloat(`x${i}`, -5, 10));
  let s = 0;
  for (let i = 0; i < 4; i++) s += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2;
  return s;
}

const T = { a: [-3, 3, -3, 3], b: [2, 2, -2, -2], c: [1, -2, 0.5, 3], d: [-1, -1, 4, 0] };
const OFFSET = { a: 1, b: 0.5, c: 0, d: 0.25 };

export function mixed(t) {
  const x = Array.from({ length: 4 }, (_, i) => t.suggestFloat(`x${i}`, -5, 5));
  const c = t.suggestCategorical('c', ['a', 'b', 'c', 'd']);
  return x.reduce((s, v, i) => s + (v - T[c][i]) ** 2, 0) + OFFSET[c];
}

export const FUNCTIONS = { branin, hartmann6, rosenbrock5, mixed };
