/**
 * The engine's SMA(10/50) cross against a plain reference loop written here: next-open market
 * fills, 0.10 per unit, long-only 10 units, sums in integer ticks compared exactly.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, smaCross, type Fill } from '../src/engine/index.js';

function walk(n: number, seed: number, step: number) {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  const ticks = new Float64Array(n);
  const cols = { time: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n) };
  let t = 1_000_000;
  for (let i = 0; i < n; i++) {
    const o = t;
    t = Math.max(1000, t + Math.round((rnd() - 0.5) * 2 * step));
    ticks[i] = t;
    cols.time[i] = 1_600_000_000_000 + i * 60_000;
    cols.open[i] = o / 1e4;
    cols.close[i] = t / 1e4;
    cols.high[i] = Math.max(o, t) / 1e4;
    cols.low[i] = Math.min(o, t) / 1e4;
  }
  return { cols, ticks };
}

/** The reference: one loop, integer ticks, no engine. */
function reference(cols: { open: Float64Array }, ticks: Float64Array) {
  const fills: [number, 'buy' | 'sell', number, number][] = [];
  let pos = 0;
  let pending = 0;
  let last = 0;
  let ties = 0;
  for (let i = 0; i < ticks.length; i++) {
    if (pending !== 0) {
      fills.push([i, pending > 0 ? 'buy' : 'sell', cols.open[i]!, Math.abs(pending) * 0.1]);
      pos += pending;
      pending = 0;
    }
    if (i < 49) continue;
    let f = 0;
    let s = 0;
    for (let k = i - 9; k <= i; k++) f += ticks[k]!;
    for (let k = i - 49; k <= i; k++) s += ticks[k]!;
    const d = f * 50 - s * 10;
    if (d === 0) ties++;
    if (d > 0) {
      if (last < 0 && pos === 0) pending = 10;
      last = 1;
    } else if (d < 0) {
      if (last > 0 && pos > 0) pending = -pos;
      last = -1;
    }
  }
  return { fills, ties };
}

function engineFills(cols: ReturnType<typeof walk>['cols']) {
  const fills: Fill[] = [];
  const e = createEngine({ config: { cash: 100_000, commission: { perUnit: 0.1 }, sizing: { units: 10 } }, strategy: smaCross, params: { fast: 10, slow: 50 }, info: { scale: 1e4 }, hooks: { onFill: (f) => fills.push(f) } });
  e.run(cols, 0, cols.close.length);
  return fills.map((f) => [f.bar, f.side, f.price, f.commission]);
}

describe('SMA(10/50) cross against a reference loop', () => {
  it('100k bars of a random walk: the same fills', () => {
    const { cols, ticks } = walk(100_000, 7, 25);
    const ref = reference(cols, ticks);
    expect(ref.fills.length).toBeGreaterThan(1000);
    expect(engineFills(cols)).toEqual(ref.fills);
  });

  it('data with many exact ties of the two averages: the engine agrees with integer ticks', () => {
    // One-tick steps on a 0.0001 grid: fast and slow means are often exactly equal.
    const { cols, ticks } = walk(100_000, 11, 1);
    const ref = reference(cols, ticks);
    expect(ref.ties).toBeGreaterThan(100);
    expect(engineFills(cols)).toEqual(ref.fills);
    // Float means in the usual order of arithmetic see some of those ties as a difference.
    let flips = 0;
    for (let i = 49; i < ticks.length; i++) {
      let f = 0;
      let s = 0;
      for (let k = i - 9; k <= i; k++) f += cols.close[k]!;
      for (let k = i - 49; k <= i; k++) s += cols.close[k]!;
      let fi = 0;
      let si = 0;
      for (let k = i - 9; k <= i; k++) fi += ticks[k]!;
      for (let k = i - 49; k <= i; k++) si += ticks[k]!;
      if (fi * 50 === si * 10 && f / 10 !== s / 50) flips++;
    }
    expect(flips).toBeGreaterThan(0);
  });
});
