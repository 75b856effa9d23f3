// Held-out functions added for the TPE fix of issue 16 (branch tpe-fix), written BEFORE any TPE
// variant was run on them and never used to choose or tune one: they only judge. Same two
// properties as heldout-new-functions.mjs (which the first attempt at the fix had already seen):
// mixed network-like spaces where a broad, easy choice is found first but a narrow one is best
// (lock-in), and continuous functions with nearly irrelevant dimensions (premature narrowing).
// Each has its best value at 0 (or near it).

// Per kernel: centre of log10 C, centre of log10 gamma (null: gamma unused), widths, floor.
const SVM = { linear: [0, null, 1.8, 0, 0.16], poly: [1, -2, 0.9, 0.8, 0.07], rbf: [1.5, -2.5, 0.4, 0.35, 0], sigmoid: [-0.5, -3, 1.5, 1.5, 0.3] };

/** An SVM: kernel choice, log C, log gamma, degree (poly), log tolerance, class weighting. */
export function svmLike(t) {
  const kernel = t.suggestCategorical('kernel', ['linear', 'poly', 'rbf', 'sigmoid']);
  const C = Math.log10(t.suggestFloat('C', 1e-3, 1e3, { log: true }));
  const gamma = Math.log10(t.suggestFloat('gamma', 1e-5, 1, { log: true }));
  const degree = t.suggestInt('degree', 2, 5);
  const tol = Math.log10(t.suggestFloat('tol', 1e-6, 1e-1, { log: true }));
  const balanced = t.suggestCategorical('class_weight', ['none', 'balanced']);
  const [c, g, wc, wg, off] = SVM[kernel];
  const zc = (C - c) / wc;
  const zg = g === null ? 0 : (gamma - g - 0.3 * (C - c)) / wg;
  const deg = kernel === 'poly' ? 0.03 * (degree - 3) ** 2 : 0;
  return off + (1 - Math.exp(-0.5 * (zc * zc + zg * zg))) + deg + 0.005 * (tol + 4) ** 2 + (balanced === 'balanced' ? 0 : 0.02);
}

const MLP_OPT = { sgd: [-1.0, 1.5, 0.15], momentum: [-1.8, 0.9, 0.06], adam: [-3.2, 0.4, 0] };
const MLP_SCHED = { constant: 0.04, cosine: 0, step: 0.02 };

/** An MLP: optimizer, log lr, schedule, log-int width, layers, dropout, label smoothing. */
export function mlpLike(t) {
  const opt = t.suggestCategorical('optimizer', ['sgd', 'momentum', 'adam']);
  const lr = Math.log10(t.suggestFloat('lr', 1e-5, 1, { log: true }));
  const sched = t.suggestCategorical('schedule', ['constant', 'cosine', 'step']);
  const width = Math.log2(t.suggestInt('width', 16, 2048, { log: true })) - 8;
  const layers = t.suggestInt('layers', 1, 5);
  const dropout = t.suggestFloat('dropout', 0, 0.7);
  const smooth = t.suggestFloat('label_smoothing', 0, 0.3);
  const [c, w, off] = MLP_OPT[opt];
  const z = (lr - c - (sched === 'cosine' ? 0.2 : 0)) / w;
  return off + 0.8 * (1 - Math.exp(-0.5 * z * z)) + MLP_SCHED[sched] + 0.02 * (width - 0.5 * (layers - 2)) ** 2 + 0.015 * (layers - 3) ** 2 + 0.3 * (dropout - 0.25) ** 2 + 0.2 * (smooth - 0.1) ** 2;
}

/** Zakharov-3 on [−5, 10]³ (scaled) plus one dimension worth at most 0.01. */
export function zakharovIrrelevant(t) {
  const x = Array.from({ length: 4 }, (_, i) => t.suggestFloat(`x${i}`, -5, 10));
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < 3; i++) {
    s1 += x[i] ** 2;
    s2 += 0.5 * (i + 1) * x[i];
  }
  return 0.01 * (s1 + s2 ** 2 + s2 ** 4) + 0.01 * ((x[3] - 7) / 12) ** 2;
}

/** Alpine-1 in [−10, 10]³ (many local minima) plus one dimension worth at most 0.02. */
export function alpineIrrelevant(t) {
  const x = Array.from({ length: 4 }, (_, i) => t.suggestFloat(`x${i}`, -10, 10));
  let s = 0;
  for (let i = 0; i < 3; i++) s += Math.abs(x[i] * Math.sin(x[i]) + 0.1 * x[i]);
  return s + 0.02 * ((x[3] + 6) / 16) ** 2;
}

/** A shifted ellipsoid in 4 dimensions plus 2 worth at most 0.005 each. */
export function ellipsoidIrrelevant(t) {
  const x = Array.from({ length: 6 }, (_, i) => t.suggestFloat(`x${i}`, 0, 1));
  const c = [0.7, 0.2, 0.45, 0.9];
  let s = 0;
  for (let i = 0; i < 4; i++) s += 10 ** (i / 3) * (x[i] - c[i]) ** 2;
  return s + 0.005 * ((x[4] - 0.1) / 0.9) ** 2 + 0.005 * ((x[5] - 0.6) / 0.6) ** 2;
}

export const HELDOUT_FRESH = { svmLike, mlpLike, zakharovIrrelevant, alpineIrrelevant, ellipsoidIrrelevant };
