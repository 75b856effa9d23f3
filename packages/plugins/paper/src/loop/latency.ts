/** Per-bar latencies of one attempt (the newest 100k), summarised as percentiles for the result. */
const CAP = 100_000;

export class Latencies {
  private readonly xs = new Float64Array(CAP);
  private n = 0;

  add(ms: number): void {
    this.xs[this.n % CAP] = ms;
    this.n++;
  }

  summary(): { count: number; p50Ms: number; p99Ms: number; maxMs: number } | null {
    const k = Math.min(this.n, CAP);
    if (k === 0) return null;
    const s = this.xs.slice(0, k).sort();
    const q = (p: number) => round(s[Math.min(k - 1, Math.floor(p * k))]!);
    return { count: this.n, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: round(s[k - 1]!) };
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
