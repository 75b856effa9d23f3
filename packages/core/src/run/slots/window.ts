/** Tasks shorter than this on average get a wide window: claims must overlap to hide commit latency. */
export const PREFETCH_BELOW_MS = 25;

/**
 * How many tasks may be busy at once: the pool's slots for ordinary tasks; for very short tasks
 * (average run under PREFETCH_BELOW_MS) many more, queued in the pool so threads never wait on a claim.
 */
export function windowFor(slots: number, avgRunMs: number): number {
  return avgRunMs < PREFETCH_BELOW_MS ? Math.max(256, slots * 64) : slots;
}

/** The average run time after one more completed run (exponential, new runs weigh a tenth). */
export function nextAverage(avgRunMs: number, runMs: number): number {
  return avgRunMs === Infinity ? runMs : avgRunMs * 0.9 + runMs * 0.1;
}
