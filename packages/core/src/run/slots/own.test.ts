import { describe, expect, test } from 'vitest';
import { SlotLedger } from './slot-ledger.js';

describe('slots: a task takes one of the pool’s slots', () => {
  test('take counts a busy slot; hasRoom stops at the pool’s slots (or a wider window)', () => {
    const slots = new SlotLedger<string>(2, 0);
    expect(slots.hasRoom()).toBe(true);
    slots.take({});
    slots.take({});
    expect(slots.busy).toBe(2);
    expect(slots.hasRoom()).toBe(false);
    expect(slots.hasRoom(256)).toBe(true);
  });

  test('the slot is free once the work stops, before the outcome is recorded; freeing twice frees once', () => {
    const slots = new SlotLedger<string>(1, 0);
    const g = slots.take({});
    slots.freeSlot(g);
    expect(slots.busy).toBe(0);
    slots.freeSlot(g);
    slots.release(g);
    expect(slots.busy).toBe(0);
  });

  test('a claim that fails gives the slot back', () => {
    const slots = new SlotLedger<string>(1, 0);
    const g = slots.take({});
    slots.unclaimed(g);
    expect(slots.busy).toBe(0);
    expect(slots.hasRoom()).toBe(true);
  });
});
