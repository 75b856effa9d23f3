/**
 * Synthetic OHLCV: a geometric random walk. Each bar opens at the previous close; the close is
 * open × exp(drift + volatility × z); high and low extend beyond both by half-normal wicks;
 * volume is log-normal around its median. With `signal: { type: ar1, strength: φ }` the log
 * return's deviation from the drift is an AR(1) process, e_t = φ·e_{t−1} + √(1−φ²)·volatility·z,
 * which keeps the same stationary volatility but makes the next return predictable from the last
 * (a symbol outside `signal.symbols` stays a random walk: the control). The same draws are used in
 * either case, so a control symbol's bytes do not depend on the signal option.
 * The PRNG (sfc32, seeded by splitmix32 from the seed
 * and the symbol) and the math are deterministic, so the same options give the same bytes.
 */
import { configError } from '../errors.js';
import type { SyntheticSource } from '../schema.js';
import type { Frame } from '../series/frame.js';
import { addIntervals, parseDate, parseInterval, type Interval } from '../time.js';
import type { Fetched, SourceDriver } from './types.js';

function splitmix32(a: number): () => number {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

/** sfc32: small, fast, passes PractRand; returns floats in [0, 1). */
export function sfc32(seed: number): () => number {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  return () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

export function symbolSeed(seed: number, symbol: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < symbol.length; i++) h = Math.imul(h ^ symbol.charCodeAt(i), 0x01000193);
  return (h ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0;
}

/** Whether `symbol` gets the planted component (see the `signal` option). */
export function hasSignal(o: SyntheticSource, symbol: string): boolean {
  return o.signal !== undefined && o.signal.strength !== 0 && (o.signal.symbols === undefined || o.signal.symbols.includes(symbol));
}

export function generate(o: SyntheticSource, symbol: string, iv: Interval, start: number, bars: number): Frame {
  const rand = sfc32(symbolSeed(o.seed, symbol));
  let spare: number | undefined;
  const gauss = () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  const time = new Float64Array(bars);
  const open = new Float64Array(bars);
  const high = new Float64Array(bars);
  const low = new Float64Array(bars);
  const close = new Float64Array(bars);
  const volume = new Float64Array(bars);
  let price = o.price;
  const wick = o.volatility * 0.5;
  const phi = hasSignal(o, symbol) ? o.signal!.strength : 0;
  const innovation = Math.sqrt(1 - phi * phi);
  let dev = 0;
  for (let i = 0; i < bars; i++) {
    time[i] = addIntervals(start, iv, i);
    const op = price;
    const z = gauss();
    dev = phi === 0 ? o.volatility * z : phi * dev + innovation * o.volatility * z;
    const cl = op * Math.exp(o.drift + dev);
    open[i] = op;
    close[i] = cl;
    high[i] = Math.max(op, cl) * Math.exp(wick * Math.abs(gauss()));
    low[i] = Math.min(op, cl) * Math.exp(-wick * Math.abs(gauss()));
    volume[i] = o.volume * Math.exp(0.25 * gauss());
    price = cl;
  }
  return { time, names: ['open', 'high', 'low', 'close', 'volume'], cols: [open, high, low, close, volume], rowRef: (i) => `bar ${i + 1}` };
}

export function syntheticSource(o: SyntheticSource): SourceDriver {
  let iv: Interval;
  try {
    iv = parseInterval(o.interval);
  } catch (err) {
    throw configError(`source.interval: ${(err as Error).message}`, 'Use e.g. 1m, 1h, 1d, 1w or 1M');
  }
  const start = parseDate(o.start);
  if (Number.isNaN(start)) throw configError(`source.start: "${o.start}" is not a valid date`, 'Use YYYY-MM-DD or an ISO date-time');
  let bars = o.bars;
  if (o.end !== undefined) {
    const end = parseDate(o.end);
    if (Number.isNaN(end)) throw configError(`source.end: "${o.end}" is not a valid date`, 'Use YYYY-MM-DD or an ISO date-time');
    if (end <= start) throw configError(`source.end (${o.end}) is not after source.start (${o.start})`, 'Set an end after the start, or drop end and set bars');
    bars = 0;
    while (addIntervals(start, iv, bars) < end) bars++;
  }
  const { type: _t, end: _e, bars: _b, ...rest } = o;
  return {
    type: 'synthetic',
    interval: o.interval,
    params: { ...rest, bars },
    openEnded: false,
    defaultCalendar: () => 'continuous',
    async fetch(run, symbol): Promise<Fetched> {
      const frame = generate(o, symbol, iv, start, bars);
      run.rows = bars;
      return { frame, url: `synthetic:${symbol}?seed=${o.seed}` };
    },
  };
}
