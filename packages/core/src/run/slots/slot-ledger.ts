/**
 * The one owner of the pool's slot state: how many slots are busy, which GPUs are free, and which
 * waiting parents lend their slot to a child.
 *
 * A task holds one slot while it runs. A parent that waits on `ctx.runChild` holds its slot and
 * does nothing with it, so it lends the slot to one child at a time: that child runs without a
 * slot of its own (the pool gets one more thread while it runs, see `onLentChange`), and the slot
 * returns to the parent when the child's outcome is recorded. Further children of the same parent
 * wait for free slots like any task. Without lending, parents holding every slot would wait
 * forever on children that can never start.
 *
 * Each grant goes through: taken (`take`/`takeForChild`) → `claimed` or `unclaimed` (the store's
 * claim transaction decided) → `freeSlot` (the work stopped; idempotent) → `release` (the outcome
 * is recorded).
 */

export interface SlotGrant<P> {
  /** The parent whose slot this child borrows; undefined for a slot of the pool's own. */
  readonly lender?: P;
  /** GPU indices given to the task. */
  readonly gpus: readonly number[];
  /** Counts against the pool's busy slots (an own slot not yet freed). */
  holdsSlot: boolean;
}

const RESERVED = 'reserved';

export class SlotLedger<P> {
  private busySlots = 0;
  private lentSlots = 0;
  private readonly freeGpus: number[];
  /** Parents lending their slot: reserved while the child is being claimed, then the child's grant. */
  private readonly lending = new Map<P, SlotGrant<P> | typeof RESERVED>();

  /**
   * @param slots The pool's slots (`pool.threads`).
   * @param gpus GPUs on this host (`pool.gpus`), numbered from 0.
   * @param onLentChange Called with the number of slots lent whenever it changes: children on
   *   lent slots need threads beyond the pool's slots.
   */
  constructor(
    readonly slots: number,
    gpus: number,
    private readonly onLentChange: (lent: number) => void = () => {},
  ) {
    this.freeGpus = Array.from({ length: gpus }, (_, i) => i);
  }

  /** Slots taken by running tasks (lent slots are not counted twice). */
  get busy(): number {
    return this.busySlots;
  }

  /** Children running on a parent's slot. */
  get lent(): number {
    return this.lentSlots;
  }

  get gpusFree(): number {
    return this.freeGpus.length;
  }

  /** Whether the free GPUs cover these resources. */
  fits(resources: Readonly<Record<string, number>>): boolean {
    return (resources.gpu ?? 0) <= this.freeGpus.length;
  }

  /** Whether fewer than `limit` slots are busy (the runner's window may exceed the pool's slots). */
  hasRoom(limit = this.slots): boolean {
    return this.busySlots < limit;
  }

  /** Whether `parent` can lend its slot now: it lends to no child and none is being claimed for it. */
  canLend(parent: P): boolean {
    return !this.lending.has(parent);
  }

  /** A slot of the pool's own (the caller checked `hasRoom` and `fits`). */
  take(resources: Readonly<Record<string, number>>): SlotGrant<P> {
    this.busySlots++;
    return { gpus: this.takeGpus(resources.gpu ?? 0), holdsSlot: true };
  }

  /**
   * A slot for a child: its parent's when the parent may lend (`mayLend`, and `canLend`), else
   * one of the pool's when one is free. Undefined when neither is possible or the GPUs do not fit.
   */
  takeForChild(parent: P, resources: Readonly<Record<string, number>>, mayLend: boolean): SlotGrant<P> | undefined {
    const lend = mayLend && this.canLend(parent);
    if (!lend && this.busySlots >= this.slots) return undefined;
    if (!this.fits(resources)) return undefined;
    if (lend) {
      this.lending.set(parent, RESERVED);
      return { lender: parent, gpus: this.takeGpus(resources.gpu ?? 0), holdsSlot: false };
    }
    this.busySlots++;
    return { gpus: this.takeGpus(resources.gpu ?? 0), holdsSlot: true };
  }

  /** The claim succeeded: a borrowed slot now runs the child. */
  claimed(grant: SlotGrant<P>): void {
    if (!grant.lender) return;
    this.lending.set(grant.lender, grant);
    this.setLent(+1);
  }

  /** The claim failed (another runner holds the task): everything goes back. */
  unclaimed(grant: SlotGrant<P>): void {
    if (grant.lender) {
      if (this.lending.get(grant.lender) === RESERVED) this.lending.delete(grant.lender);
    } else this.freeSlot(grant);
    this.releaseGpus(grant);
  }

  /** The work stopped: an own slot is free for the next task (recording the outcome need not hold it). */
  freeSlot(grant: SlotGrant<P>): void {
    if (!grant.holdsSlot) return;
    grant.holdsSlot = false;
    this.busySlots--;
  }

  /** The outcome is recorded: the slot, the GPUs and a borrowed slot go back. */
  release(grant: SlotGrant<P>): void {
    this.freeSlot(grant);
    this.releaseGpus(grant);
    if (grant.lender && this.lending.get(grant.lender) === grant) {
      this.lending.delete(grant.lender);
      this.setLent(-1);
    }
  }

  private takeGpus(n: number): number[] {
    return n > 0 ? this.freeGpus.splice(0, n) : [];
  }

  private releaseGpus(grant: SlotGrant<P>): void {
    if (grant.gpus.length > 0) {
      this.freeGpus.push(...grant.gpus);
      (grant as { gpus: readonly number[] }).gpus = [];
    }
  }

  private setLent(delta: number): void {
    this.lentSlots += delta;
    this.onLentChange(this.lentSlots);
  }
}
