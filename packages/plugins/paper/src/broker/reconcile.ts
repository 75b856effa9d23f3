/**
 * Reconciliation: the trader's ledger against the broker's own account, once per start, after
 * both have seen the same bar. A difference (cash, a position, an order one side has open and the
 * other not) is reported, never silently overwritten: the ledger is what the trader did, the
 * broker is what happened, and a person decides.
 */
import type { BrokerAccount } from './types.js';

export interface LedgerView {
  cash: number;
  positions: Record<string, number>;
  openOrders: string[];
}

export interface Difference {
  what: string;
  ledger: number | string;
  broker: number | string;
}

export function reconcile(ledger: LedgerView, broker: BrokerAccount): Difference[] {
  const out: Difference[] = [];
  if (!near(ledger.cash, broker.cash)) out.push({ what: 'cash', ledger: ledger.cash, broker: broker.cash });
  for (const sym of new Set([...Object.keys(ledger.positions), ...Object.keys(broker.positions)])) {
    const a = ledger.positions[sym] ?? 0;
    const b = broker.positions[sym] ?? 0;
    if (!near(a, b)) out.push({ what: `position ${sym}`, ledger: a, broker: b });
  }
  const l = new Set(ledger.openOrders);
  const b = new Set(broker.openOrders);
  for (const id of l) if (!b.has(id)) out.push({ what: `open order ${id}`, ledger: 'open', broker: 'not open' });
  for (const id of b) if (!l.has(id)) out.push({ what: `open order ${id}`, ledger: 'not open', broker: 'open' });
  return out;
}

/** Equal up to rounding: the two sides may add the same fills in another order. */
function near(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

export function describeDifferences(d: Difference[]): string {
  return d.map((x) => `${x.what}: ledger ${x.ledger}, broker ${x.broker}`).join('; ');
}
