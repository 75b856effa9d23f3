// Held-out test functions for judging TPE changes: none of them is in the benchmark (Branin,
// Hartmann6, Rosenbrock-5D, mixed). Standard definitions and domains (Surjanovic & Bingham's
// Virtual Library of Simulation Experiments), plus an HPO-like space with log, stepped-int,
// int and categorical parameters. Written against the trial API, like functions.mjs.

const sum = (xs, f) => xs.reduce((a, x, i) => a + f(x, i), 0);
const floats = (t, d, lo, hi) => Array.from({ length: d }, (_, i) => t.suggestFloat(`x${i}`, lo, hi));

export function ackley5(t) {
  const x = floats(t, 5, -32.768, 32.768);
  const n = x.length;
  return -20 * Math.exp(-0.2 * Math.sqrt(sum(x, (v) => v * v) / n)) - Math.exp(sum(x, (v) => Math.cos(2 * Math.PI * v)) / n) + 20 + Math.E;
}

export function styblinskiTang4(t) {
  const x = floats(t, 4, -5, 5);
  return 0.5 * sum(x, (v) => v ** 4 - 16 * v * v + 5 * v);
}

export function levy5(t) {
  const x = floats(t, 5, -10, 10);
  const w = x.map((v) => 1 + (v - 1) / 4);
  const d = w.length;
  let s = Math.sin(Math.PI * w[0]) ** 2;
  for (let i = 0; i < d - 1; i++) s += (w[i] - 1) ** 2 * (1 + 10 * Math.sin(Math.PI * w[i] + 1) ** 2);
  return s + (w[d - 1] - 1) ** 2 * (1 + Math.sin(2 * Math.PI * w[d - 1]) ** 2);
}

export function griewank5(t) {
  const x = floats(t, 5, -600, 600);
  let p = 1;
  x.forEach((v, i) => (p *= Math.cos(v / Math.sqrt(i + 1))));
  return sum(x, (v) => v * v) / 4000 - p + 1;
}

const SHEKEL_B = [0.1, 0.2, 0.2, 0.4, 0.4, 0.6, 0.3, 0.7, 0.5, 0.5];
const SHEKEL_C = [
  [4, 1, 8, 6, 3, 2, 5, 8, 6, 7],
  [4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6],
  [4, 1, 8, 6, 3, 2, 5, 8, 6, 7],
  [4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6],
];

export function shekel4(t) {
  const x = floats(t, 4, 0, 10);
  let s = 0;
  for (let i = 0; i < 10; i++) s -= 1 / (SHEKEL_B[i] + sum(x, (v, j) => (v - SHEKEL_C[j][i]) ** 2));
  return s;
}

export function dixonPrice5(t) {
  const x = floats(t, 5, -10, 10);
  let s = (x[0] - 1) ** 2;
  for (let i = 1; i < x.length; i++) s += (i + 1) * (2 * x[i] ** 2 - x[i - 1]) ** 2;
  return s;
}

export function sixHumpCamel(t) {
  const x = t.suggestFloat('x0', -3, 3);
  const y = t.suggestFloat('x1', -2, 2);
  return (4 - 2.1 * x * x + x ** 4 / 3) * x * x + x * y + (-4 + 4 * y * y) * y * y;
}

export function michalewicz5(t) {
  const x = floats(t, 5, 0, Math.PI);
  return -sum(x, (v, i) => Math.sin(v) * Math.sin(((i + 1) * v * v) / Math.PI) ** 20);
}

export function rastrigin4(t) {
  const x = floats(t, 4, -5.12, 5.12);
  return 10 * x.length + sum(x, (v) => v * v - 10 * Math.cos(2 * Math.PI * v));
}

export function goldsteinPrice(t) {
  const x = t.suggestFloat('x0', -2, 2);
  const y = t.suggestFloat('x1', -2, 2);
  const a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x * x - 14 * y + 6 * x * y + 3 * y * y);
  const b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x * x + 48 * y - 36 * x * y + 27 * y * y);
  return a * b;
}

export function himmelblau(t) {
  const x = t.suggestFloat('x0', -5, 5);
  const y = t.suggestFloat('x1', -5, 5);
  return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2;
}

export function beale(t) {
  const x = t.suggestFloat('x0', -4.5, 4.5);
  const y = t.suggestFloat('x1', -4.5, 4.5);
  return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y ** 3) ** 2;
}

const SHIFT_T = { p: [0.2, 0.8, 0.5], q: [0.7, 0.3, 0.1], r: [0.5, 0.5, 0.9], s: [0.1, 0.1, 0.3], u: [0.9, 0.6, 0.6] };
const SHIFT_OFFSET = { p: 0.4, q: 0, r: 0.2, s: 0.1, u: 0.3 };

/** A choice that moves the optimum of three floats: each choice has its own target and offset. */
export function catShift(t) {
  const x = floats(t, 3, 0, 1);
  const c = t.suggestCategorical('c', ['p', 'q', 'r', 's', 'u']);
  return 4 * sum(x, (v, i) => (v - SHIFT_T[c][i]) ** 2) + SHIFT_OFFSET[c];
}

const LR_BEST = { sgd: -1.5, adam: -3.3, rmsprop: -2.8 };
const OPT_OFFSET = { sgd: 0.3, adam: 0, rmsprop: 0.1 };

/** An HPO-like response surface: log-scaled floats and ints, a stepped int, an int, a float, a choice that moves the best learning rate. */
export function hpoMixed(t) {
  const lr = t.suggestFloat('lr', 1e-5, 1, { log: true });
  const units = t.suggestInt('units', 16, 512, { step: 16 });
  const layers = t.suggestInt('layers', 1, 8);
  const dropout = t.suggestFloat('dropout', 0, 0.6);
  const batch = t.suggestInt('batch', 8, 1024, { log: true });
  const opt = t.suggestCategorical('optimizer', ['sgd', 'adam', 'rmsprop']);
  const u = Math.log2(units) - 7.5;
  const l = layers - 3;
  return (
    0.5 * (Math.log10(lr) - LR_BEST[opt] - 0.15 * (Math.log2(batch) - 6)) ** 2 +
    0.3 * u * u + 0.2 * l * l + 0.1 * u * l +
    2 * (dropout - 0.05 * layers - 0.1) ** 2 +
    0.1 * (Math.log2(batch) - 6) ** 2 +
    OPT_OFFSET[opt]
  );
}


// --- Mixed categorical/continuous functions of varied structure (added for the categorical-aware
// TPE; none is the benchmark's "mixed"). Tables are fixed; the best value of each is 0.

const SCALE = { tight: 8, mid: 1, flat: 0.15 };
const SCALE_T = { tight: [1.5, -2, 0.5], mid: [-1, 1, -3], flat: [3, 0, 2] };
const SCALE_OFFSET = { tight: 0, mid: 0.3, flat: 0.6 };

/** A choice that changes the scale: the flat choice looks best at random, the tight one holds the optimum. */
export function catScale(t) {
  const c = t.suggestCategorical('c', ['tight', 'mid', 'flat']);
  const x = floats(t, 3, -4, 4);
  return SCALE[c] * sum(x, (v, i) => (v - SCALE_T[c][i]) ** 2) + SCALE_OFFSET[c];
}

const PHI = (Math.sqrt(5) - 1) / 2;
const frac = (v) => v - Math.floor(v);
const C8 = Array.from({ length: 8 }, (_, k) => ({
  t: [frac(0.13 + (k + 1) * PHI), frac(0.71 + (k + 1) * PHI * PHI), frac(0.37 + (k + 1) * Math.SQRT2)],
  off: [0.2, 0.05, 0.35, 0, 0.15, 0.3, 0.1, 0.25][k],
}));

/** A choice of 8 levels, each with its own optimum (an L^1.5 bowl) and offset. */
export function cat8(t) {
  const x = floats(t, 3, 0, 1);
  const k = t.suggestCategorical('level', [0, 1, 2, 3, 4, 5, 6, 7]);
  return 3 * sum(x, (v, i) => Math.abs(v - C8[k].t[i]) ** 1.5) + C8[k].off;
}

/** Conditional: the model choice decides which parameters exist (a shared one, too). */
export function conditionalModel(t) {
  const model = t.suggestCategorical('model', ['svm', 'forest', 'mlp']);
  const s = t.suggestFloat('subsample', 0.1, 1);
  const shared = 2 * (s - 0.8) ** 2;
  if (model === 'svm') {
    const C = t.suggestFloat('svm_c', 1e-3, 1e3, { log: true });
    const g = t.suggestFloat('svm_gamma', 1e-4, 1, { log: true });
    const a = Math.log10(C) - 1.5;
    const b = Math.log10(g) + 2.2;
    return 0.15 + shared + 0.3 * a * a + 0.3 * b * b + 0.2 * a * b;
  }
  if (model === 'forest') {
    const depth = t.suggestInt('forest_depth', 2, 32);
    const feat = t.suggestFloat('forest_features', 0.05, 1);
    return 0.05 + shared + 0.004 * (depth - 11) ** 2 + 3 * (feat - 0.35) ** 2;
  }
  const lr = t.suggestFloat('mlp_lr', 1e-5, 1e-1, { log: true });
  const width = t.suggestInt('mlp_width', 16, 1024, { log: true });
  const drop = t.suggestFloat('mlp_dropout', 0, 0.5);
  const l = Math.log10(lr) + 3.2;
  const w = Math.log2(width) - 8;
  return shared + 0.5 * l * l + 0.05 * w * w + 4 * (drop - 0.2 - 0.02 * w) ** 2;
}

const ACT_T = { relu: [0.5, -1, 1, 0], tanh: [-1, 0.5, 0, 1.2], gelu: [1, 1, -0.5, -1] };
const ACT_OFF = { relu: 0.1, tanh: 0.3, gelu: 0 };
const NORM_SHIFT = { none: 0, batch: 0.6 };
const NORM_OFF = { none: 0.15, batch: 0 };

/** Two interacting choices that move a rippled bowl in 4 floats. */
export function twoCats(t) {
  const act = t.suggestCategorical('act', ['relu', 'tanh', 'gelu']);
  const x = floats(t, 4, -2, 2);
  const norm = t.suggestCategorical('norm', ['none', 'batch']);
  const off = ACT_OFF[act] + NORM_OFF[norm] + (act === 'gelu' && norm === 'none' ? 0.2 : 0);
  return sum(x, (v, i) => {
    const d = v - ACT_T[act][i] + (i % 2 ? -1 : 1) * NORM_SHIFT[norm] * 0.5;
    return d * d + 0.2 * (1 - Math.cos(3 * Math.PI * d));
  }) + off;
}

const ACK_T = { p: [2, -1, 3, -3], q: [-2, 2, -1, 1], r: [0.5, 3, 2, -2] };
const ACK_OFF = { p: 0.5, q: 0, r: 0.25 };

/** A choice between shifted Ackley functions (many local minima within each), asked mid-way. */
export function catAckley(t) {
  const a = floats(t, 2, -5, 5);
  const c = t.suggestCategorical('c', ['p', 'q', 'r']);
  const b = [t.suggestFloat('x2', -5, 5), t.suggestFloat('x3', -5, 5)];
  const z = [...a, ...b].map((v, i) => v - ACK_T[c][i]);
  const n = z.length;
  return 0.5 * (-20 * Math.exp(-0.2 * Math.sqrt(sum(z, (v) => v * v) / n)) - Math.exp(sum(z, (v) => Math.cos(2 * Math.PI * v)) / n) + 20 + Math.E) + ACK_OFF[c];
}

/** A choice that hardly matters (small offsets, same optimum) next to an ill-conditioned rotated bowl. */
export function catIrrelevant(t) {
  const x = floats(t, 4, -3, 3);
  const c = t.suggestCategorical('c', ['a', 'b', 'c', 'd', 'e', 'f']);
  const u = (x[0] + x[1]) / Math.SQRT2 - 1;
  const v = (x[0] - x[1]) / Math.SQRT2;
  return 10 * u * u + v * v + 4 * (x[2] - x[3] - 0.5) ** 2 + 0.5 * (x[2] + x[3]) ** 2 + { a: 0.03, b: 0, c: 0.05, d: 0.01, e: 0.04, f: 0.02 }[c];
}

export const HELDOUT_MIXED = { catShift, hpoMixed, catScale, cat8, conditionalModel, twoCats, catAckley, catIrrelevant };

export const HELDOUT = { ackley5, styblinskiTang4, levy5, griewank5, shekel4, dixonPrice5, sixHumpCamel, goldsteinPrice, himmelblau, beale, michalewicz5, rastrigin4, hpoMixed, catShift, catScale, cat8, conditionalModel, twoCats, catAckley, catIrrelevant };
