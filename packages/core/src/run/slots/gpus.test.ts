import { describe, expect, test } from 'vitest';
import { SlotLedger } from './slot-ledger.js';

describe('slots: GPUs', () => {
  test('a task gets the lowest free GPU indices; they come back when its outcome is recorded', () => {
    const slots = new SlotLedger<string>(4, 3);
    expect(slots.fits({ gpu: 3 })).toBe(true);
    const a = slots.take({ gpu: 2 });
    expect(a.gpus).toEqual([0, 1]);
    expect(slots.fits({ gpu: 2 })).toBe(false);
    expect(slots.fits({ gpu: 1 })).toBe(true);
    const b = slots.take({ gpu: 1 });
    expect(b.gpus).toEqual([2]);
    expect(slots.gpusFree).toBe(0);
    slots.freeSlot(a);
    expect(slots.gpusFree).toBe(0);
    slots.release(a);
    expect(slots.gpusFree).toBe(2);
    slots.release(a);
    expect(slots.gpusFree).toBe(2);
  });

  test('a task without a gpu resource fits with no GPUs at all', () => {
    const slots = new SlotLedger<string>(1, 0);
    expect(slots.fits({})).toBe(true);
    expect(slots.take({}).gpus).toEqual([]);
  });

  test('a failed claim returns its GPUs', () => {
    const slots = new SlotLedger<string>(2, 1);
    const g = slots.take({ gpu: 1 });
    slots.unclaimed(g);
    expect(slots.gpusFree).toBe(1);
  });
});
