import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainOptions, TrainResult } from '../src/index.js';

export type DeepPartial<T> = { [K in keyof T]?: NonNullable<T[K]> extends object ? DeepPartial<NonNullable<T[K]>> : T[K] };

/** A small, fast training setup: 8 features, ~600 training samples, 10 batches per epoch. */
export function small(over: DeepPartial<TrainOptions> = {}): Partial<TrainOptions> {
  const base = {
    data: { synthetic: { rows: 800, seed: 3 }, label: { forwardReturn: 1 } },
    model: { layers: [{ dense: { units: 16, activation: 'relu' } }, { batchNorm: {} }, { dropout: { rate: 0.2 } }, { dense: { units: 1 } }] },
    epochs: 6,
    batchSize: 64,
    checkpointEvery: 1,
    backend: 'cpu',
  };
  return merge(base, over) as Partial<TrainOptions>;
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur) ? merge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** What must be equal between an interrupted-and-resumed run and an uninterrupted one. */
export function outcome(r: TrainResult) {
  return { sha256: r.model.sha256, metrics: r.metrics, epochs: r.epochs, stoppedEarly: r.stoppedEarly, backend: r.backend };
}

export function weightsOf(r: TrainResult, which: 'final' | 'best' = 'final'): Buffer {
  return readFileSync(join(r.model[which], 'weights.bin'));
}
