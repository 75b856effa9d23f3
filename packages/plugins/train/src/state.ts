/**
 * Exact snapshots of a model and its optimizer as typed arrays, and their restoration. Restoring
 * writes the saved float32 bits back, including Adam's accBeta1/accBeta2: the stock setWeights
 * recomputes them with pow(), which differs by one ulp from the product accumulated during
 * training at most iteration counts.
 */
import type { TF } from './backend.js';
import type { LayersModel, NamedTensor, Optimizer, Tensor } from './tf-types.js';

export interface SavedTensor {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  values: Float32Array | Int32Array | Uint8Array;
}

export interface OptimizerState {
  className: string;
  weights: SavedTensor[];
  /** Adam's running powers of beta1 and beta2, as float32. */
  accBeta1?: Float32Array;
  accBeta2?: Float32Array;
}

function save(name: string, t: Tensor): SavedTensor {
  const values = t.dataSync();
  // Copy: on the cpu backend dataSync returns the tensor's own buffer.
  return { name, shape: t.shape.slice(), dtype: t.dtype as SavedTensor['dtype'], values: values.slice() as SavedTensor['values'] };
}

export function captureWeights(model: LayersModel): SavedTensor[] {
  return model.weights.map((w) => save(w.originalName, w.read()));
}

/** Copies weights into the model; checks count and shapes first. Returns an error text on mismatch. */
export function restoreWeights(tf: TF, model: LayersModel, saved: SavedTensor[]): string | undefined {
  const vars = model.weights;
  if (vars.length !== saved.length) return `the checkpoint has ${saved.length} weight tensors, the model ${vars.length}`;
  for (const [i, v] of vars.entries()) {
    if (v.shape.join() !== saved[i]!.shape.join()) return `weight ${v.originalName} has shape [${v.shape}] but the checkpoint has [${saved[i]!.shape}]`;
  }
  const tensors = saved.map((s) => tf.tensor(s.values, s.shape, s.dtype));
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
  return undefined;
}

export async function captureOptimizer(opt: Optimizer): Promise<OptimizerState> {
  const named: NamedTensor[] = await opt.getWeights();
  const out: OptimizerState = { className: opt.getClassName(), weights: named.map((w) => save(w.name, w.tensor)) };
  // getWeights returns the optimizer's own variables plus a fresh iterations scalar: free only the latter.
  for (const w of named) if (typeof (w.tensor as unknown as { assign?: unknown }).assign !== 'function') w.tensor.dispose();
  const adam = opt as unknown as { accBeta1?: Tensor; accBeta2?: Tensor };
  if (adam.accBeta1 && adam.accBeta2) {
    out.accBeta1 = adam.accBeta1.dataSync().slice() as Float32Array;
    out.accBeta2 = adam.accBeta2.dataSync().slice() as Float32Array;
  }
  return out;
}

export async function restoreOptimizer(tf: TF, opt: Optimizer, saved: OptimizerState): Promise<string | undefined> {
  if (saved.className !== opt.getClassName()) return `the checkpoint holds ${saved.className} state, the optimizer is ${opt.getClassName()}`;
  const tensors = saved.weights.map((s) => ({ name: s.name, tensor: tf.tensor(s.values, s.shape, s.dtype) }));
  try {
    await opt.setWeights(tensors);
  } finally {
    // setWeights made variables of them (which hold their own reference); drop ours.
    tf.dispose(tensors.map((t) => t.tensor));
  }
  const adam = opt as unknown as { accBeta1?: { assign(t: Tensor): void }; accBeta2?: { assign(t: Tensor): void } };
  if (saved.accBeta1 && saved.accBeta2 && adam.accBeta1 && adam.accBeta2) {
    const b1 = tf.scalar(saved.accBeta1[0]!, 'float32');
    const b2 = tf.scalar(saved.accBeta2[0]!, 'float32');
    adam.accBeta1.assign(b1);
    adam.accBeta2.assign(b2);
    tf.dispose([b1, b2]);
  }
  return undefined;
}
