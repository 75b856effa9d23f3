import { describe, expect, it } from 'vitest';
import type { SyntheticSource } from '../schema.js';
import { parseDate, parseInterval } from '../time.js';
import { generate, hasSignal } from './synthetic.js';

const base: SyntheticSource = { type: 'synthetic', interval: '1h', start: '2024-01-01', bars: 20_000, seed: 7, price: 100, drift: 0, volatility: 0.01, volume: 1e6 };
const iv = parseInterval('1h');
const t0 = parseDate('2024-01-01');

function logReturns(close: Float64Array, open: Float64Array): Float64Array {
  const r = new Float64Array(close.length);
  for (let i = 0; i < close.length; i++) r[i] = Math.log(close[i]! / open[i]!);
  return r;
}

function lag1(r: Float64Array): { corr: number; sd: number } {
  let m = 0;
  for (const v of r) m += v;
  m /= r.length;
  let c0 = 0;
  let c1 = 0;
  for (let i = 0; i < r.length; i++) {
    c0 += (r[i]! - m) ** 2;
    if (i > 0) c1 += (r[i]! - m) * (r[i - 1]! - m);
  }
  return { corr: c1 / c0, sd: Math.sqrt(c0 / r.length) };
}

describe('synthetic signal', () => {
  it('without a signal the returns are uncorrelated; with ar1 their lag-1 correlation is the strength, at the same volatility', () => {
    const rw = generate(base, 'AAA', iv, t0, base.bars);
    const ar = generate({ ...base, signal: { type: 'ar1', strength: 0.3 } }, 'AAA', iv, t0, base.bars);
    const a = lag1(logReturns(rw.cols[3] as Float64Array, rw.cols[0] as Float64Array));
    const b = lag1(logReturns(ar.cols[3] as Float64Array, ar.cols[0] as Float64Array));
    // 20,000 bars: the standard error of a lag-1 correlation is about 1/sqrt(n) = 0.007.
    expect(Math.abs(a.corr)).toBeLessThan(0.03);
    expect(b.corr).toBeGreaterThan(0.27);
    expect(b.corr).toBeLessThan(0.33);
    expect(b.sd / a.sd).toBeGreaterThan(0.95);
    expect(b.sd / a.sd).toBeLessThan(1.05);
  });

  it('a symbol outside signal.symbols is the control: byte-identical to the plain random walk', () => {
    const o = { ...base, signal: { type: 'ar1' as const, strength: 0.3, symbols: ['AAA'] } };
    expect(hasSignal(o, 'AAA')).toBe(true);
    expect(hasSignal(o, 'CTRL')).toBe(false);
    const plain = generate(base, 'CTRL', iv, t0, 500);
    const ctrl = generate(o, 'CTRL', iv, t0, 500);
    for (let c = 0; c < plain.cols.length; c++) expect(Buffer.from((ctrl.cols[c] as Float64Array).buffer).equals(Buffer.from((plain.cols[c] as Float64Array).buffer))).toBe(true);
    const planted = generate(o, 'AAA', iv, t0, 500);
    expect(Buffer.from((planted.cols[3] as Float64Array).buffer).equals(Buffer.from((plain.cols[3] as Float64Array).buffer))).toBe(false);
  });

  it('is deterministic: the same options give the same bytes', () => {
    const o = { ...base, signal: { type: 'ar1' as const, strength: 0.2 } };
    const x = generate(o, 'AAA', iv, t0, 1000);
    const y = generate(o, 'AAA', iv, t0, 1000);
    expect(Buffer.from((x.cols[3] as Float64Array).buffer).equals(Buffer.from((y.cols[3] as Float64Array).buffer))).toBe(true);
  });
});
