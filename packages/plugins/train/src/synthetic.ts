/**
 * A synthetic daily OHLCV series: a random walk with slowly changing volatility and a weak,
 * learnable dependence of the next return on recent returns, so that small models have
 * something to find. Used by `data.synthetic`, the tests and the benchmark.
 */
import { hash32, mulberry32 } from './seed.js';

export interface SyntheticSeries {
  time: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

const DAY_MS = 86_400_000;
const START_MS = Date.UTC(2000, 0, 3);

export function syntheticSeries(rows: number, seed = 1): SyntheticSeries {
  const rand = mulberry32(hash32(seed, 'synthetic'));
  const gauss = () => {
    // Box–Muller; 1 - u keeps the log finite.
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const s: SyntheticSeries = {
    time: new Float64Array(rows),
    open: new Float64Array(rows),
    high: new Float64Array(rows),
    low: new Float64Array(rows),
    close: new Float64Array(rows),
    volume: new Float64Array(rows),
  };
  let price = 100;
  let vol = 0.015;
  let r1 = 0;
  let r5 = 0;
  for (let t = 0; t < rows; t++) {
    vol = Math.min(0.06, Math.max(0.004, vol * Math.exp(0.08 * gauss())));
    const r = 0.0002 + 0.08 * r1 - 0.04 * r5 + vol * gauss();
    r5 = 0.8 * r5 + 0.2 * r;
    r1 = r;
    const open = price * Math.exp(0.2 * vol * gauss());
    price = price * Math.exp(r);
    const wiggle = Math.abs(gauss()) * vol * price * 0.5;
    s.time[t] = START_MS + t * DAY_MS;
    s.open[t] = open;
    s.close[t] = price;
    s.high[t] = Math.max(open, price) + wiggle;
    s.low[t] = Math.max(0.01, Math.min(open, price) - wiggle);
    s.volume[t] = Math.round(1e6 * Math.exp(0.3 * gauss() + 8 * Math.abs(r)));
  }
  return s;
}
