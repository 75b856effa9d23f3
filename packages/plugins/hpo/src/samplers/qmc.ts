/**
 * A scrambled Halton sequence for the TPE's startup trials: point i of dimension j is the
 * radical inverse of i in the j-th prime base, each digit position with its own random
 * permutation of the digits (Matoušek's random digit scrambling). Scrambling breaks the
 * correlation of plain Halton points in large bases and makes the sequence depend on the seed;
 * it is a pure function of (seed, study, index, dimension), so a resumed study gets the same points.
 */
import { Rng } from '../rng.js';
import type { Distribution } from '../space.js';

const PRIMES: number[] = (() => {
  const out: number[] = [];
  for (let n = 2; out.length < 256; n++) if (out.every((p) => p * p > n || n % p !== 0)) out.push(n);
  return out;
})();

export class ScrambledHalton {
  /** Per dimension: one digit permutation per digit position. */
  private readonly perms: Uint16Array[][] = [];
  private readonly rng: Rng;

  constructor(seed: number, salt: string) {
    this.rng = Rng.fromSeed(seed, `${salt}:halton`);
  }

  private dim(j: number): Uint16Array[] {
    // Dimensions are drawn in order, so dimension j's permutations never depend on who asked first.
    while (this.perms.length <= j) {
      const b = PRIMES[this.perms.length % PRIMES.length]!;
      const digits = Math.ceil(53 / Math.log2(b));
      const perDigit: Uint16Array[] = [];
      for (let k = 0; k < digits; k++) {
        const p = new Uint16Array(b);
        for (let i = 0; i < b; i++) p[i] = i;
        for (let i = b - 1; i > 0; i--) {
          const r = this.rng.int(i + 1);
          const t = p[i]!;
          p[i] = p[r]!;
          p[r] = t;
        }
        perDigit.push(p);
      }
      this.perms.push(perDigit);
    }
    return this.perms[j]!;
  }

  /** Coordinate j of point `index`, in [0, 1). */
  value(index: number, j: number): number {
    const perms = this.dim(j);
    const b = PRIMES[j % PRIMES.length]!;
    let x = 0;
    let scale = 1 / b;
    let i = index;
    for (const p of perms) {
      x += p[i % b]! * scale;
      i = Math.floor(i / b);
      scale /= b;
    }
    return Math.min(x, 1 - Number.EPSILON / 2);
  }
}

/** `u` in [0, 1) onto a distribution, as the random sampler maps its uniform draws. */
export function fromUnit(d: Distribution, u: number): number {
  if (d.type === 'categorical') return Math.min(d.choices.length - 1, Math.floor(u * d.choices.length));
  if (d.low === d.high) return d.low;
  const at = (lo: number, hi: number) => lo + (hi - lo) * u;
  if (d.type === 'int') {
    if (d.log) return Math.min(d.high, Math.max(d.low, Math.round(Math.exp(at(Math.log(d.low - 0.5), Math.log(d.high + 0.5))))));
    const v = at(d.low - 0.5 * d.step, d.high + 0.5 * d.step);
    return Math.min(d.high, Math.max(d.low, Math.round((v - d.low) / d.step) * d.step + d.low));
  }
  if (d.log) return Math.min(d.high, Math.max(d.low, Math.exp(at(Math.log(d.low), Math.log(d.high)))));
  if (d.step !== undefined) {
    const v = at(d.low - 0.5 * d.step, d.high + 0.5 * d.step);
    return Math.min(d.high, Math.max(d.low, Math.round((v - d.low) / d.step) * d.step + d.low));
  }
  return at(d.low, d.high);
}
