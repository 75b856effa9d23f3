/**
 * Order ids are the engine's: `<cell>|<bar time>|<intent>` (see the backtester's ENGINE.md), so
 * reprocessing a bar after a crash makes the same decision with the same id, which the broker
 * (idempotent submit) and the ledger (trades keyed by order id) both refuse to apply twice. The
 * cell part is the task's cell as in its id, e.g. `symbol=AAPL/horizon=1`.
 */
export function cellKeyOf(cell: Readonly<Record<string, string | number | boolean>>): string {
  const entries = Object.entries(cell);
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${String(v)}`).join('/');
}
