/**
 * The broker seam: every order the paper trader places goes through this interface, and every
 * fill it books comes back through it. The simulated broker (`simulated.ts`) is the first
 * implementation; a real broker adapter implements the same five methods (see docs/paper.md,
 * "Writing a broker adapter").
 *
 * The contract that makes a restart exact:
 * - `submit` is idempotent on `order.id`: an id the broker already knows places nothing and
 *   returns that order's status. (Real brokers offer this as a client order id.)
 * - `settle(bar)` returns the fills of the task's orders that executed during `bar`; asked again
 *   for the same bar (after a crash, before the trader committed it) it returns the same fills.
 * - `account()` is the broker's own view of cash and positions, which the trader compares with its
 *   ledger on every start.
 */
import type { Bar } from '../feed/types.js';

export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit' | 'stop';

export interface BrokerOrder {
  /** Deterministic id (see `ledger/ids.ts`); the broker's client order id. */
  id: string;
  symbol: string;
  side: Side;
  /** Units, > 0. */
  qty: number;
  type: OrderType;
  /** Limit or stop price. */
  price?: number;
  /** Time of the bar the decision was made on; the order can fill from the next bar on. */
  placedAt: number;
  /** What the strategy wanted, as given to the id (for logs and the trade list). */
  intent: string;
}

export type OrderState = 'open' | 'filled' | 'cancelled' | 'rejected';

export interface OrderStatus {
  id: string;
  state: OrderState;
  /** True when this call placed nothing because the broker already had the id. */
  known: boolean;
  reason?: string;
}

export interface BrokerFill {
  orderId: string;
  symbol: string;
  side: Side;
  qty: number;
  /** Execution price including slippage. */
  price: number;
  commission: number;
  /** Time of the bar it executed in. */
  time: number;
}

export interface BrokerAccount {
  cash: number;
  /** Signed units per symbol (short < 0); symbols with 0 may be left out. */
  positions: Record<string, number>;
  openOrders: string[];
}

export interface Broker {
  readonly name: string;
  submit(order: BrokerOrder): Promise<OrderStatus>;
  cancel(id: string): Promise<OrderStatus>;
  settle(bar: Bar): Promise<BrokerFill[]>;
  account(): Promise<BrokerAccount>;
  close(): Promise<void>;
}
