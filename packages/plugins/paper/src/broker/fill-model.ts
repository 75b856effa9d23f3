/**
 * Between the engine and the broker: the simulated broker's fill model is the engine's own
 * (`fillPrice`, `commissionFn`), and the engine's open orders become broker orders.
 */
import { commissionFn, fillPrice, type Order } from '@runner/plugin-backtest/engine';
import type { PaperOptions } from '../schema.js';
import type { FillModel } from './simulated.js';
import type { BrokerOrder } from './types.js';

/** The simulated broker fills with the engine's own fill price and commission rules. */
export function simulatedFills(o: PaperOptions): FillModel {
  const commission = commissionFn(o.commission);
  const bps = o.slippage.bps;
  return (order, bar) => {
    const eo: Order = { id: order.id, side: order.side, type: order.type, qty: order.qty, price: order.price ?? NaN, intent: order.intent, bar: 0, time: order.placedAt };
    const price = fillPrice(eo, { ...bar, signal: NaN }, bps);
    return Number.isNaN(price) ? undefined : { price, commission: commission(order.qty, price) };
  };
}

export function toBrokerOrder(o: Order, symbol: string): BrokerOrder {
  return { id: o.id, symbol, side: o.side, qty: o.qty, type: o.type, ...(Number.isNaN(o.price) ? {} : { price: o.price }), placedAt: o.time, intent: o.intent };
}
