import { describe, expect, test } from 'vitest';
import { EarlyStopping, ReduceLrOnPlateau } from './callbacks.js';
import type { EarlyStoppingSpec, ReduceLrSpec } from './schema.js';

const es = (over: Partial<EarlyStoppingSpec> = {}): EarlyStoppingSpec => ({ monitor: 'val_loss', patience: 2, minDelta: 0, mode: 'auto', restoreBest: true, startFromEpoch: 0, ...over });

function run(stopper: EarlyStopping, values: number[]) {
  const best = stopper.initialBest();
  const early = { wait: 0, stoppedEpoch: 0 };
  const improved: number[] = [];
  for (const [i, v] of values.entries()) {
    const r = stopper.update(i + 1, v, best, early);
    if (r.improved) improved.push(i + 1);
    if (r.stop) return { stoppedAt: i + 1, best, improved };
  }
  return { stoppedAt: 0, best, improved };
}

describe('early stopping (Keras semantics)', () => {
  test('stops after patience epochs without improvement and remembers the best epoch', () => {
    const r = run(new EarlyStopping('val_loss', es()), [5, 4, 4.5, 3.9, 4, 4.1, 3]);
    expect(r.stoppedAt).toBe(6);
    expect(r.best).toEqual({ value: 3.9, epoch: 4 });
    expect(r.improved).toEqual([1, 2, 4]);
  });

  test('minDelta: smaller changes do not count', () => {
    const r = run(new EarlyStopping('val_loss', es({ minDelta: 0.5 })), [5, 4.8, 4.6, 4.4]);
    expect(r.stoppedAt).toBe(3);
    expect(r.best.epoch).toBe(1);
  });

  test('max mode for accuracies, and startFromEpoch skips the warm-up', () => {
    const acc = run(new EarlyStopping('val_binaryAccuracy', es()), [0.5, 0.6, 0.55, 0.58]);
    expect(acc.best).toEqual({ value: 0.6, epoch: 2 });
    expect(acc.stoppedAt).toBe(4);
    const warm = run(new EarlyStopping('val_loss', es({ startFromEpoch: 3, patience: 1 })), [1, 2, 3, 4, 5]);
    expect(warm.best.epoch).toBe(4);
    expect(warm.stoppedAt).toBe(5);
  });

  test('a baseline that is never beaten stops after patience epochs', () => {
    const r = run(new EarlyStopping('val_loss', es({ baseline: 1, patience: 3 })), [5, 4, 3, 2, 1.5]);
    // Every epoch improves on the last, so training goes on, but none beats the baseline.
    expect(r.improved).toEqual([1, 2, 3, 4, 5]);
    expect(r.stoppedAt).toBe(0);
    const r2 = run(new EarlyStopping('val_loss', es({ baseline: 1, patience: 3 })), [5, 4, 4, 4]);
    expect(r2.stoppedAt).toBe(3);
  });

  test('without early stopping it only tracks the best epoch', () => {
    const r = run(new EarlyStopping('val_loss', undefined), [3, 2, 2.5, 2.6, 2.7, 2.8]);
    expect(r.stoppedAt).toBe(0);
    expect(r.best).toEqual({ value: 2, epoch: 2 });
  });
});

describe('reduce learning rate on plateau (Keras semantics)', () => {
  const spec = (over: Partial<ReduceLrSpec> = {}): ReduceLrSpec => ({ monitor: 'val_loss', factor: 0.5, patience: 2, minDelta: 0, mode: 'auto', cooldown: 0, minLr: 0, ...over });

  test('halves the rate after patience flat epochs, with cooldown and a floor', () => {
    const p = new ReduceLrOnPlateau(spec({ cooldown: 1, minLr: 0.2 }));
    const s = p.initial();
    const lrs: number[] = [];
    let lr = 1;
    for (const v of [1, 1, 1, 1, 1, 1, 1, 1]) lrs.push((lr = p.update(v, lr, s)));
    // Epoch 1 sets the best; 2 and 3 are flat -> 0.5. Epoch 4 ends the cooldown and counts
    // again (as in Keras), 5 -> 0.25, 6 cools down, 7 -> 0.125 raised to the floor 0.2.
    expect(lrs).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2]);
  });

  test('an improvement resets the count', () => {
    const p = new ReduceLrOnPlateau(spec());
    const s = p.initial();
    let lr = 1;
    for (const v of [3, 3, 2, 2, 1]) lr = p.update(v, lr, s);
    expect(lr).toBe(1);
    expect(p.update(1, lr, s)).toBe(1);
    expect(p.update(1, lr, s)).toBe(0.5);
  });
});
