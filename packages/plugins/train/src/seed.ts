/**
 * Seeded randomness that does not depend on how many numbers were drawn before: every stream is
 * derived from (seed, purpose, indices), so an interrupted run that resumes at epoch k draws the
 * same permutation and the same dropout masks as an uninterrupted one.
 */

/** A 32-bit hash of a list of integers and strings (murmur3-style mixing). */
export function hash32(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    if (typeof p === 'string') {
      for (let i = 0; i < p.length; i++) h = mix(h ^ p.charCodeAt(i));
    } else {
      // Integers up to 2^53 keep both halves.
      h = mix(h ^ (p >>> 0));
      h = mix(h ^ Math.floor(p / 4294967296));
    }
    h = mix(h ^ 0x9e3779b9);
  }
  return h >>> 0;
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** mulberry32: a small, fast generator with a 32-bit state; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The order in which epoch `epoch` visits `n` training samples: a Fisher–Yates shuffle seeded by (seed, epoch). */
export function epochPermutation(n: number, seed: number, epoch: number, shuffle = true): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  if (!shuffle) return perm;
  const rand = mulberry32(hash32(seed, 'shuffle', epoch));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}

/**
 * Runs `fn` with Math.random replaced by a generator seeded from `seed`, so that weight
 * initialisers (which draw from Math.random when given no seed) start every attempt from the
 * same weights. Only our task runs on this thread, so the swap is not observed by others.
 */
export async function withSeededRandom<T>(seed: number, fn: () => T | Promise<T>): Promise<T> {
  const original = Math.random;
  Math.random = mulberry32(hash32(seed, 'init'));
  try {
    return await fn();
  } finally {
    Math.random = original;
  }
}
