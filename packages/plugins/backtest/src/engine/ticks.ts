/**
 * Integer ticks: prices as whole multiples of the series' price grid. Sums and cross-multiplied
 * comparisons of integers below 2^53 are exact in any order, so an indicator comparison (fast
 * SMA vs slow SMA) has one answer — a tie is a tie — however the sums were accumulated, before or
 * after a resume.
 */

/** The largest integer below which float arithmetic on integers is exact. */
export const EXACT = Number.MAX_SAFE_INTEGER;

/**
 * The coarsest decimal grid (1, 0.1, ..., 1e-8) that every finite value lies on, as its scale
 * (1, 10, ..., 1e8: ticks = round(price × scale)). 1e8 when none does (prices are then rounded
 * to 1e-8).
 */
export function inferScale(values: ArrayLike<number>): number {
  for (let k = 0, scale = 1; k <= 8; k++, scale *= 10) {
    let ok = true;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      const x = v * scale;
      if (Math.abs(x - Math.round(x)) > Math.max(1e-7, Math.abs(x) * 4 * Number.EPSILON)) {
        ok = false;
        break;
      }
    }
    if (ok) return scale;
  }
  return 1e8;
}

/** The price grid as a tick size (1 / scale), for display. */
export function tickOf(scale: number): number {
  return 1 / scale;
}

/** round(price × scale). */
export function toTicks(price: number, scale: number): number {
  return Math.round(price * scale);
}
