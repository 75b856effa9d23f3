import { engineError } from '../errors.js';
import type { CommissionConfig, SlippageConfig, Side } from './types.js';

/** Commission of one fill. */
export type CommissionFn = (qty: number, price: number) => number;

export function commissionFn(c: CommissionConfig | undefined): CommissionFn {
  if (!c || 'none' in c) return () => 0;
  if ('perUnit' in c) {
    const k = c.perUnit;
    return (qty) => qty * k;
  }
  if ('pct' in c) {
    const k = c.pct / 100;
    return (qty, price) => qty * price * k;
  }
  if ('perOrder' in c) {
    const k = c.perOrder;
    return () => k;
  }
  throw engineError(`unknown commission ${JSON.stringify(c)}`, 'Use { perUnit }, { pct } or { perOrder }');
}

/** The price a market or stop fill gets: `bps` worse than `price` for the trader. */
export function slipped(price: number, side: Side, s: SlippageConfig | undefined): number {
  const bps = s?.bps ?? 0;
  if (bps === 0) return price;
  return side === 'buy' ? price * (1 + bps / 10_000) : price * (1 - bps / 10_000);
}
