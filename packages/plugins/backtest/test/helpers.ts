import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSeries } from '@runner/core/series';

export type Cols = { time: Float64Array; open: Float64Array; high: Float64Array; low: Float64Array; close: Float64Array; volume: Float64Array };

/** A one-minute random walk on a 0.0001 grid. */
export function gridSeries(n: number, seed = 5, step = 20): Cols {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  const c: Cols = { time: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  let t = 1_000_000;
  for (let i = 0; i < n; i++) {
    const o = t;
    t = Math.max(1000, t + Math.round((rnd() - 0.5) * 2 * step));
    c.time[i] = Date.UTC(2024, 0, 1) + i * 60_000;
    c.open[i] = o / 1e4;
    c.close[i] = t / 1e4;
    c.high[i] = (Math.max(o, t) + 3) / 1e4;
    c.low[i] = (Math.min(o, t) - 3) / 1e4;
    c.volume[i] = 1000 + (i % 7);
  }
  return c;
}

export function tmp(prefix = 'bt-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function seriesFile(cols: Record<string, Float64Array>, name = 'TEST', dir = tmp()): Promise<string> {
  const file = join(dir, `${name}.arrow`);
  await writeSeries(file, cols, { symbol: name });
  return file;
}

/** The files a backtest writes whose bytes must not depend on interruptions. */
export const EXACT_FILES = ['trades.csv', 'fills.csv', 'equity.csv', 'trades.arrow', 'equity.arrow', 'metrics.json'];

/** sha256 of each of those files. */
export function artifacts(result: { files: Record<string, string> }): Record<string, string> {
  return Object.fromEntries(EXACT_FILES.map((f) => [f, createHash('sha256').update(readFileSync(result.files[f]!)).digest('hex')]));
}
