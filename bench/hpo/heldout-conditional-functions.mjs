// Held-out functions with conditional search spaces (issue 16, conditional parameters for the GP
// sampler): a parameter exists only for some value of a categorical. Written BEFORE any sampler
// ran on them and never used to choose or tune one: they only judge (with conditionalModel in
// heldout-functions.mjs, the one conditional function before them). Each is shaped like a space a
// user of the runner would tune; values are deterministic and noise-free, every term is smooth
// where it matters, and no optimum sits at the box centre or a corner. The best value of each is
// 0 (pipelineTune and nestedTune reach it at integer values the spaces contain).

const sq = (v) => v * v;
// A learning-rate basin: 0 at the centre, saturating at `depth` far from it (divergence / no progress).
const basin = (v, centre, width, depth) => depth * (1 - Math.exp(-0.5 * sq((v - centre) / width)));

// Per optimizer: centre of log10 lr at batch 64, basin width (decades), floor, preferred log2(batch) - 6.
const OPTIMIZER = { sgd: [-1.3, 1.3, 0.22, -1], momentum: [-0.8, 0.8, 0.07, 0], adam: [-3.1, 0.4, 0, 1], rmsprop: [-2.7, 0.55, 0.04, 0.5] };

/**
 * Tuning a network's optimizer. Shared: the optimizer (sgd, momentum, adam, rmsprop), a log
 * learning rate whose best value depends on the optimizer and grows with the batch (by a quarter
 * decade per doubling), a log-integer batch (each optimizer prefers its own) and dropout. Only for
 * its optimizer: momentum's `momentum` (0.5-0.99, best 0.9; what counts is the effective rate
 * lr / (1 - momentum), so lr and momentum form a curved ridge), adam's `beta1` (0.5-0.99, best
 * 0.88, moves the best lr a little) and log `eps` (1e-10-1e-4, best 10^-8.2, nearly irrelevant),
 * rmsprop's `rho` (0.8-0.999, best 0.93). Plain sgd has the broadest basin (1.3 decades) but the
 * worst floor (0.22); adam holds the optimum (0 at lr 10^-2.85, batch 128, beta1 0.88, eps
 * 10^-8.2, dropout 0.15) in the narrowest basin (0.4 decades); momentum 0.07, rmsprop 0.04.
 */
export function optimizerTune(t) {
  const opt = t.suggestCategorical('optimizer', ['sgd', 'momentum', 'adam', 'rmsprop']);
  let lr = Math.log10(t.suggestFloat('lr', 1e-5, 1, { log: true }));
  const [centre, width, floor, batchBest] = OPTIMIZER[opt];
  let extra = 0;
  let shift = 0;
  if (opt === 'momentum') {
    const m = t.suggestFloat('momentum', 0.5, 0.99);
    lr -= Math.log10(1 - m);
    extra = 2 * sq(m - 0.9);
  } else if (opt === 'adam') {
    const beta1 = t.suggestFloat('beta1', 0.5, 0.99);
    const eps = Math.log10(t.suggestFloat('eps', 1e-10, 1e-4, { log: true }));
    shift = 0.8 * (beta1 - 0.88);
    extra = 1.5 * sq(beta1 - 0.88) + 0.004 * sq(eps + 8.2);
  } else if (opt === 'rmsprop') {
    const rho = t.suggestFloat('rho', 0.8, 0.999);
    extra = 3 * sq(rho - 0.93);
  }
  const b = Math.log2(t.suggestInt('batch', 16, 1024, { log: true })) - 6;
  const dropout = t.suggestFloat('dropout', 0, 0.6);
  return floor + basin(lr, centre + shift + 0.25 * b, width, 0.9) + extra + 0.02 * sq(b - batchBest) + 0.5 * sq(dropout - 0.15);
}

// Per scaler, for the linear model: best log10 alpha, floor.
const LINEAR_SCALER = { none: [1, 0.3], standard: [-1.8, 0.06], quantile: [-2.5, 0] };

/**
 * A preprocessing + model pipeline: two independent conditional groups and a shared parameter.
 * The scaler (none, standard, quantile) has its own log-integer `n_quantiles` (10-1000) only for
 * quantile; the model (linear, tree) has log `alpha` (1e-6-100) for linear and integer `depth`
 * (2-16) and log-integer `min_leaf` (1-100) for tree; `feature_frac` (0.1-1) is shared. The linear
 * model depends on the scaler (unscaled inputs need strong regularisation and cost 0.3; the best
 * alpha under quantile moves with n_quantiles, best 200) and its best feature fraction grows with
 * alpha; the tree is invariant to scaling except that fewer than about 100 quantiles lose
 * information, its best depth grows with min_leaf (best min_leaf 8, depth 8), and it wants fewer
 * features. The tree is the broad, easy basin (floor 0.05); the optimum 0 is linear + quantile at
 * n_quantiles 200, alpha 10^-2.5, feature_frac 0.65 (standard scaling: 0.06 at alpha 10^-1.8).
 */
export function pipelineTune(t) {
  const scaler = t.suggestCategorical('scaler', ['none', 'standard', 'quantile']);
  const q = scaler === 'quantile' ? Math.log10(t.suggestInt('n_quantiles', 10, 1000, { log: true }) / 200) : 0;
  const model = t.suggestCategorical('model', ['linear', 'tree']);
  const feat = t.suggestFloat('feature_frac', 0.1, 1);
  if (model === 'linear') {
    const alpha = Math.log10(t.suggestFloat('alpha', 1e-6, 100, { log: true }));
    const [best, floor] = LINEAR_SCALER[scaler];
    const a = alpha - best - 0.5 * q;
    return floor + 0.2 * sq(q) + basin(a, 0, 1.2, 0.6) + 1.5 * sq(feat - 0.65 - 0.05 * a);
  }
  const depth = t.suggestInt('depth', 2, 16);
  const leaf = Math.log2(t.suggestInt('min_leaf', 1, 100, { log: true }));
  return 0.05 + (scaler === 'quantile' ? 0.05 * sq(Math.min(0, q + 0.3)) : 0) + 0.008 * sq(depth - 5.6 - 0.8 * leaf) + 0.03 * sq(leaf - 3) + 1.2 * sq(feat - 0.35 - 0.01 * depth);
}

// Per learning-rate schedule of the network: centre of log10 lr, basin width, floor.
const SCHEDULE = { constant: [-3.2, 0.5, 0.08], cosine: [-2.7, 0.45, 0], step: [-2.9, 0.5, 0.03] };

/**
 * Two-level nesting: the model (gbm, nn) decides which parameters exist, and for nn the schedule
 * (constant, cosine, step) decides which of its own do: integer `warmup` epochs (0-10, best 3,
 * more warmup allows a higher lr) for cosine, `gamma` (0.1-0.9, best 0.3) for step. Shared by both
 * models: a log `l2` (1e-6-1) whose best value depends on the model (10^-1 for gbm, 10^-4 for nn).
 * gbm: log learning_rate (1e-3-1), log-integer n_estimators (20-2000) that trade off (what counts
 * is their product, best 20, with a mild preference for about 600 trees), integer max_depth (2-12,
 * best 6); the broad basin, floor 0.05. nn: log nn_lr (1e-5-1e-1), log-integer width (32-1024,
 * best 256); the optimum 0 is nn + cosine with warmup 3 at nn_lr 10^-2.7, l2 10^-4; constant
 * 0.08, step 0.03.
 */
export function nestedTune(t) {
  const model = t.suggestCategorical('model', ['gbm', 'nn']);
  const l2 = Math.log10(t.suggestFloat('l2', 1e-6, 1, { log: true }));
  if (model === 'gbm') {
    const lr = Math.log10(t.suggestFloat('learning_rate', 1e-3, 1, { log: true }));
    const n = Math.log10(t.suggestInt('n_estimators', 20, 2000, { log: true }));
    const depth = t.suggestInt('max_depth', 2, 12);
    return 0.05 + basin(lr + n, Math.log10(20), 0.6, 0.5) + 0.03 * sq(n - Math.log10(600)) + 0.004 * sq(depth - 6) + 0.02 * sq(l2 + 1);
  }
  const lr = Math.log10(t.suggestFloat('nn_lr', 1e-5, 1e-1, { log: true }));
  const width = Math.log2(t.suggestInt('width', 32, 1024, { log: true })) - 8;
  const schedule = t.suggestCategorical('schedule', ['constant', 'cosine', 'step']);
  let [centre, w, floor] = SCHEDULE[schedule];
  if (schedule === 'cosine') {
    const warmup = t.suggestInt('warmup', 0, 10);
    centre += 0.06 * (warmup - 3);
    floor += 0.006 * sq(warmup - 3);
  } else if (schedule === 'step') {
    const gamma = t.suggestFloat('gamma', 0.1, 0.9);
    centre -= 0.3 * (gamma - 0.3);
    floor += 0.4 * sq(gamma - 0.3);
  }
  return floor + basin(lr, centre, w, 0.8) + 0.02 * sq(width) + 0.03 * sq(l2 + 4);
}

export const HELDOUT_COND = { optimizerTune, pipelineTune, nestedTune };
