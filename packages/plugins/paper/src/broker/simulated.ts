/**
 * The simulated broker: an exchange that lives in the run store. It keeps its own account (cash,
 * positions, orders, fills per bar) in its own plugin database and commits every change in its own
 * transaction, independently of the trader's ledger; so a crash between the two commits is a real
 * case and the restart contract (idempotent submit, repeatable settle) is exercised.
 * Fills use the backtester's fill model (`fill`), so paper and backtest fill alike.
 */
import type { PluginDb } from '@runner/core';
import type { Bar } from '../feed/types.js';
import type { Broker, BrokerAccount, BrokerFill, BrokerOrder, OrderState, OrderStatus } from './types.js';

/** Price and commission of `order` executing in `bar`, or undefined when it does not execute. */
export type FillModel = (order: BrokerOrder, bar: Bar) => { price: number; commission: number } | undefined;

interface Account {
  cash: number;
  positions: Record<string, number>;
  /** Open order ids in submission order. */
  open: string[];
  /** Time of the last bar settled with open orders. */
  lastSettled: number;
}

interface OrderRecord {
  order: BrokerOrder;
  state: OrderState;
  reason?: string;
}

export class SimulatedBroker implements Broker {
  readonly name = 'simulated';

  constructor(
    private readonly db: PluginDb,
    private readonly scope: string,
    private readonly fill: FillModel,
    private readonly initialCash: number,
    private readonly durable = true,
  ) {}

  private acct(): Account {
    return this.db.get<Account>(['acct', this.scope]) ?? { cash: this.initialCash, positions: {}, open: [], lastSettled: -Infinity };
  }

  async submit(order: BrokerOrder): Promise<OrderStatus> {
    return this.db.transaction((tx) => {
      const known = tx.get<OrderRecord>(['ord', this.scope, order.id]);
      if (known) return { id: order.id, state: known.state, known: true, ...(known.reason ? { reason: known.reason } : {}) };
      if (!(order.qty > 0) || !Number.isFinite(order.qty)) {
        tx.put(['ord', this.scope, order.id], { order, state: 'rejected', reason: `quantity ${order.qty}` } satisfies OrderRecord);
        return { id: order.id, state: 'rejected' as const, known: false, reason: `quantity ${order.qty}` };
      }
      const a = tx.get<Account>(['acct', this.scope]) ?? this.acct();
      tx.put(['ord', this.scope, order.id], { order, state: 'open' } satisfies OrderRecord);
      tx.put(['acct', this.scope], { ...a, open: [...a.open, order.id] });
      return { id: order.id, state: 'open' as const, known: false };
    }, { durable: this.durable });
  }

  async cancel(id: string): Promise<OrderStatus> {
    return this.db.transaction((tx) => {
      const rec = tx.get<OrderRecord>(['ord', this.scope, id]);
      if (!rec) return { id, state: 'rejected' as const, known: false, reason: 'unknown order' };
      if (rec.state !== 'open') return { id, state: rec.state, known: true };
      const a = tx.get<Account>(['acct', this.scope]) ?? this.acct();
      tx.put(['ord', this.scope, id], { ...rec, state: 'cancelled' });
      tx.put(['acct', this.scope], { ...a, open: a.open.filter((x) => x !== id) });
      return { id, state: 'cancelled' as const, known: true };
    }, { durable: this.durable });
  }

  async settle(bar: Bar): Promise<BrokerFill[]> {
    const a = this.acct();
    if (bar.time <= a.lastSettled) return this.db.get<BrokerFill[]>(['fills', this.scope, bar.time]) ?? [];
    if (a.open.length === 0) return [];
    return this.db.transaction((tx) => {
      const acct = tx.get<Account>(['acct', this.scope]) ?? this.acct();
      if (bar.time <= acct.lastSettled) return tx.get<BrokerFill[]>(['fills', this.scope, bar.time]) ?? [];
      const fills: BrokerFill[] = [];
      const open: string[] = [];
      let cash = acct.cash;
      const positions = { ...acct.positions };
      for (const id of acct.open) {
        const rec = tx.get<OrderRecord>(['ord', this.scope, id])!;
        const o = rec.order;
        const x = o.placedAt < bar.time ? this.fill(o, bar) : undefined;
        if (!x) {
          open.push(id);
          continue;
        }
        const f: BrokerFill = { orderId: id, symbol: o.symbol, side: o.side, qty: o.qty, price: x.price, commission: x.commission, time: bar.time };
        fills.push(f);
        cash += o.side === 'buy' ? -(o.qty * x.price) : o.qty * x.price;
        cash -= x.commission;
        positions[o.symbol] = (positions[o.symbol] ?? 0) + (o.side === 'buy' ? o.qty : -o.qty);
        tx.put(['ord', this.scope, id], { ...rec, state: 'filled' });
      }
      tx.put(['fills', this.scope, bar.time], fills);
      tx.put(['acct', this.scope], { cash, positions, open, lastSettled: bar.time } satisfies Account);
      return fills;
    }, { durable: this.durable });
  }

  async account(): Promise<BrokerAccount> {
    const a = this.acct();
    return { cash: a.cash, positions: { ...a.positions }, openOrders: [...a.open] };
  }

  async close(): Promise<void> {}
}
