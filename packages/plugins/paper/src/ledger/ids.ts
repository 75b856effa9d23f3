/**
 * Deterministic order ids: the task's cell, the time of the bar the decision was made on, and the
 * intent (what the strategy wanted, e.g. `buy-10-market`). Reprocessing a bar after a crash makes
 * the same decision and so the same id, which the broker and the ledger both refuse to apply twice.
 * Brokers limit client order ids (Binance: 36 characters of [.A-Z:/a-z0-9_-]), so the readable
 * form is hashed to a fixed-size id with a readable prefix.
 */
import { createHash } from 'node:crypto';

export function orderId(cellKey: string, barTime: number, intent: string): string {
  const digest = createHash('sha256').update(`${cellKey}\n${barTime}\n${intent}`).digest('base64url').slice(0, 22);
  return `p-${barTime.toString(36)}-${digest}`;
}

/** `symbol=BTCUSDT,horizon=1` (keys sorted), or `-` for a task without a cell. */
export function cellKeyOf(cell: Readonly<Record<string, string | number | boolean>>): string {
  const keys = Object.keys(cell).sort();
  return keys.length === 0 ? '-' : keys.map((k) => `${k}=${String(cell[k])}`).join(',');
}
