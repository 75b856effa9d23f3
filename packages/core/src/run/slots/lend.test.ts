import { describe, expect, test } from 'vitest';
import { SlotLedger } from './slot-ledger.js';

describe('slots: a waiting parent lends its slot to one child at a time', () => {
  test('a child of a parent holding the only slot runs on the parent’s slot, with one more thread', () => {
    const lentSeen: number[] = [];
    const slots = new SlotLedger<string>(1, 0, (lent) => lentSeen.push(lent));
    slots.take({}); // the parent
    const g = slots.takeForChild('parent', {}, true)!;
    expect(g).toBeDefined();
    expect(g.lender).toBe('parent');
    expect(g.holdsSlot).toBe(false);
    expect(slots.busy).toBe(1);
    // Reserved while it is claimed: no second child may borrow the same slot.
    expect(slots.canLend('parent')).toBe(false);
    slots.claimed(g);
    expect(slots.lent).toBe(1);
    expect(lentSeen).toEqual([1]);
    slots.freeSlot(g);
    expect(slots.busy).toBe(1);
    slots.release(g);
    expect(slots.lent).toBe(0);
    expect(lentSeen).toEqual([1, 0]);
    expect(slots.canLend('parent')).toBe(true);
  });

  test('a second child of the same parent waits for a free slot of the pool', () => {
    const slots = new SlotLedger<string>(2, 0);
    slots.take({});
    const first = slots.takeForChild('p', {}, true)!;
    slots.claimed(first);
    const second = slots.takeForChild('p', {}, true)!;
    expect(second.lender).toBeUndefined();
    expect(second.holdsSlot).toBe(true);
    expect(slots.busy).toBe(2);
    expect(slots.takeForChild('p', {}, true)).toBeUndefined();
  });

  test('a parent that may not lend (being cancelled) gets no loan; with no free slot the child waits', () => {
    const slots = new SlotLedger<string>(1, 0);
    slots.take({});
    expect(slots.takeForChild('p', {}, false)).toBeUndefined();
    expect(slots.canLend('p')).toBe(true);
  });

  test('children of different parents borrow each from its own parent', () => {
    const slots = new SlotLedger<string>(2, 0);
    slots.take({});
    slots.take({});
    const a = slots.takeForChild('a', {}, true)!;
    const b = slots.takeForChild('b', {}, true)!;
    slots.claimed(a);
    slots.claimed(b);
    expect([a.lender, b.lender]).toEqual(['a', 'b']);
    expect(slots.lent).toBe(2);
    expect(slots.busy).toBe(2);
  });

  test('a failed claim ends the reservation without counting a loan', () => {
    const seen: number[] = [];
    const slots = new SlotLedger<string>(1, 0, (n) => seen.push(n));
    slots.take({});
    const g = slots.takeForChild('p', {}, true)!;
    slots.unclaimed(g);
    expect(slots.canLend('p')).toBe(true);
    expect(slots.lent).toBe(0);
    expect(seen).toEqual([]);
  });

  test('a child that needs GPUs the host has not free does not start, and reserves nothing', () => {
    const slots = new SlotLedger<string>(1, 1);
    slots.take({ gpu: 1 });
    expect(slots.takeForChild('p', { gpu: 1 }, true)).toBeUndefined();
    expect(slots.canLend('p')).toBe(true);
  });
});
