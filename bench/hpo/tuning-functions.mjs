// Functions the TPE fixes of issue 16 were TUNED on: a network-like mixed space where an early
// wrong choice looks good (lock-in), and a continuous function with a nearly irrelevant dimension
// (premature narrowing). They are kept apart from the functions the fixes are JUDGED on
// (heldout-new-functions.mjs, heldout-functions.mjs and the benchmark's functions.mjs).

// Per optimizer: best log10(lr), width of its basin (decades), and the value it can reach. SGD is
// broad and easy to find but ends higher; Adam is narrow and best.
const NET_OPT = { sgd: [-1.2, 1.4, 0.18], adam: [-3.3, 0.45, 0], rmsprop: [-2.9, 0.6, 0.07], adagrad: [-1.6, 1.0, 0.25] };

/** Tuning a network: log lr, optimizer and batch size choices, layers, log units, dropout. */
export function netTune(t) {
  const lr = Math.log10(t.suggestFloat('lr', 1e-5, 1, { log: true }));
  const opt = t.suggestCategorical('optimizer', ['sgd', 'adam', 'rmsprop', 'adagrad']);
  const batch = t.suggestCategorical('batch', [16, 32, 64, 128, 256]);
  const layers = t.suggestInt('layers', 1, 6);
  const units = t.suggestInt('units', 8, 1024, { log: true });
  const dropout = t.suggestFloat('dropout', 0, 0.6);
  const [c, w, off] = NET_OPT[opt];
  const b = Math.log2(batch) - 6;
  const z = (lr - c - 0.25 * b) / w;
  const u = Math.log2(units) - 7 - 0.3 * (layers - 3);
  return off + (1 - Math.exp(-0.5 * z * z)) + 0.03 * u * u + 0.02 * (layers - 3) ** 2 + 0.5 * (dropout - 0.1 - 0.04 * layers) ** 2 + 0.01 * b * b;
}

/** An ill-conditioned bowl in three dimensions plus a fourth that moves the value by at most 0.01. */
export function irrelevantTune(t) {
  const x = Array.from({ length: 4 }, (_, i) => t.suggestFloat(`x${i}`, 0, 1));
  return 4 * (x[0] - 0.3) ** 2 + (x[1] - 0.6 + 0.5 * (x[0] - 0.3)) ** 2 + 0.5 * (x[2] - 0.15) ** 2 + 0.01 * ((x[3] - 0.8) / 0.8) ** 2;
}

export const TUNING = { netTune, irrelevantTune };
