/**
 * The one number that says how a task did, read from its result by convention (see
 * docs/report.md): `headline: { name, value }` when the plugin sets it; else `bestValue` (an HPO
 * study's best, named by `metric`); else a well-known key of `metrics` (or of the result itself):
 * val_loss, sharpe, loss, …; else the first number in `metrics`.
 */
export interface Headline {
  name: string;
  value: number;
}

const PREFERRED = ['val_loss', 'sharpe', 'sharpe_ratio', 'loss', 'total_return', 'return', 'accuracy', 'best_val_loss', 'pnl'];

export function headlineMetric(result: unknown): Headline | undefined {
  if (!result || typeof result !== 'object') return undefined;
  const r = result as Record<string, unknown>;
  const h = r.headline as Partial<Headline> | undefined;
  if (h && typeof h.name === 'string' && typeof h.value === 'number') return { name: h.name, value: h.value };
  if (typeof r.bestValue === 'number') return { name: typeof r.metric === 'string' ? `best ${r.metric}` : 'best value', value: r.bestValue };
  const metrics = r.metrics && typeof r.metrics === 'object' ? (r.metrics as Record<string, unknown>) : undefined;
  for (const bag of [metrics, r]) {
    if (!bag) continue;
    for (const k of PREFERRED) if (typeof bag[k] === 'number' && Number.isFinite(bag[k])) return { name: k, value: bag[k] as number };
  }
  if (metrics) for (const [k, v] of Object.entries(metrics)) if (typeof v === 'number' && Number.isFinite(v)) return { name: k, value: v };
  return undefined;
}

export function formatMetric(v: number): string {
  return Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
}

/** Compares ids with numbers as numbers: `trial=2` before `trial=10`. */
export const naturalCompare = new Intl.Collator('en', { numeric: true }).compare;
