/**
 * The plugin in-process against a real run store (@runner/core/testing): resume after a
 * simulated kill -9, after a cancel and after a failure gives byte-identical results; bad input
 * is refused with the right code before anything is written.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPlugin } from '@runner/core/testing';
import plugin, { type BacktestResult } from '../src/index.js';
import { artifacts, gridSeries, seriesFile, tmp } from './helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const TASK = { id: 'backtest/symbol=TEST/cycle=1', cell: { symbol: 'TEST' } };

const base = (file: string, over: Record<string, unknown> = {}) => ({
  data: { file },
  strategy: { type: 'sma-cross', fast: 10, slow: 50 },
  commission: { perUnit: 0.1 },
  slippage: { bps: 1 },
  sizing: { units: 10 },
  allowShort: false,
  checkpoint: { everyBars: 1000 },
  ...over,
});

async function run(options: object, extra: Parameters<typeof runPlugin>[2] = {}) {
  return runPlugin<object, BacktestResult>(plugin as never, options, { task: TASK, ...extra });
}

describe('resume', () => {
  it('after a simulated kill -9 mid-run: identical fills, trades, equity and metrics', async () => {
    const file = await seriesFile(gridSeries(30_000));
    const clean = await run(base(file));
    expect(clean.outcome).toBe('completed');
    expect(clean.result!.trades).toBeGreaterThan(50);
    const dir = tmp();
    const killed = await run(base(file), { dir, crashAtStep: 17_000 });
    expect(killed.outcome).toBe('crashed');
    const resumed = await run(base(file), { dir });
    expect(resumed.outcome).toBe('completed');
    expect(resumed.result!.resumedAtBar).toBeGreaterThan(10_000);
    expect(resumed.result!.resumedAtBar).toBeLessThan(30_000);
    expect(artifacts(resumed.result!)).toEqual(artifacts(clean.result!));
    expect(resumed.result!.metrics).toEqual(clean.result!.metrics);
    // Order ids rebuilt from the journal are the engine's: cell | order bar time | intent.
    const first = readFileSync(resumed.result!.files['fills.csv']!, 'utf8').split('\n')[1]!.split(',');
    expect(first[0]).toMatch(/^symbol=TEST\|\d{13}\|cross-up$/);
    expect(Number(first[0]!.split('|')[1])).toBe(Date.parse(first[2]!) - 60_000);
  });

  it('after a cancel: a cancellation checkpoint, then identical results', async () => {
    const file = await seriesFile(gridSeries(20_000, 9));
    const clean = await run(base(file, { checkpoint: { everySeconds: 30 } }));
    const dir = tmp();
    const cancelled = await run(base(file, { checkpoint: { everySeconds: 30 } }), { dir, cancelAtStep: 1 });
    expect(cancelled.outcome).toBe('cancelled');
    expect(cancelled.checkpoints.map((c) => c.type)).toContain('cancellation');
    const resumed = await run(base(file, { checkpoint: { everySeconds: 30 } }), { dir });
    expect(resumed.result!.resumedAtBar).toBeGreaterThan(0);
    expect(artifacts(resumed.result!)).toEqual(artifacts(clean.result!));
  });

  it('after a failure: a failure checkpoint at the last clean chunk (default policy), then identical results', async () => {
    const file = await seriesFile(gridSeries(150_000, 13));
    const gate = join(tmp(), 'fail');
    const opts = base(file, { checkpoint: { everySeconds: 30 }, strategy: { module: join(FIXTURES, 'fail-once.mjs'), params: { gate, failAt: 140_345 } } });
    const clean = await run(opts);
    expect(clean.outcome).toBe('completed');
    const dir = tmp();
    writeFileSync(gate, '');
    const failed = await run(opts, { dir });
    expect(failed.outcome).toBe('failed');
    expect(failed.error!.message).toContain('planned failure at bar 140345');
    expect(existsSync(gate)).toBe(false);
    const last = failed.checkpoints[failed.checkpoints.length - 1]!;
    expect(last.type).toBe('failure');
    expect(last.step).toBe(131_072);
    const resumed = await run(opts, { dir });
    expect(resumed.result!.resumedAtBar).toBe(131_072);
    expect(artifacts(resumed.result!)).toEqual(artifacts(clean.result!));
  });
});

describe('bad input', () => {
  const expectError = async (options: object, code: string, ...parts: string[]) => {
    const r = await run(options);
    expect(r.outcome).toBe('failed');
    const cause = r.error!.cause ?? r.error!;
    expect(cause.code ?? r.error!.code).toBe(code);
    for (const p of parts) expect(r.error!.message).toContain(p);
    return r;
  };

  it('a missing column names the cell, file and column', async () => {
    const c = gridSeries(500);
    const file = await seriesFile({ time: c.time, open: c.open, low: c.low, close: c.close });
    await expectError(base(file), 'BACKTEST_DATA', 'cell symbol=TEST', file, 'column high', 'missing');
  });

  it('NaN in a price column names the row and time', async () => {
    const c = gridSeries(500);
    c.close[321] = NaN;
    const file = await seriesFile(c);
    await expectError(base(file), 'BACKTEST_DATA', 'column close', 'row 321', '2024-01-01T05:21:00.000Z');
  });

  it('time that does not increase', async () => {
    const c = gridSeries(500);
    c.time[100] = c.time[99]!;
    const file = await seriesFile(c);
    await expectError(base(file), 'BACKTEST_DATA', 'column time', 'not increasing at row 100');
  });

  it('a period with no bars', async () => {
    const file = await seriesFile(gridSeries(500));
    await expectError(base(file, { period: { start: '2030-01-01', end: '2030-02-01' } }), 'BACKTEST_PERIOD', 'has no bars');
  });

  it('a module that is not a strategy, and one that does not exist', async () => {
    const file = await seriesFile(gridSeries(500));
    await expectError(base(file, { strategy: { module: join(FIXTURES, 'not-a-strategy.mjs') } }), 'BACKTEST_STRATEGY', 'does not default-export a strategy', 'hello');
    await expectError(base(file, { strategy: { module: join(FIXTURES, 'nope.mjs') } }), 'BACKTEST_STRATEGY', 'no such file');
    const ts = join(tmp(), 'my-strategy.ts');
    writeFileSync(ts, 'export default {}\n');
    await expectError(base(file, { strategy: { module: ts } }), 'BACKTEST_STRATEGY', 'TypeScript modules are not loaded yet', 'Compile it to .mjs');
  });

  it('nothing half-written: a failed task leaves no result files', async () => {
    const c = gridSeries(500);
    c.open[10] = Infinity;
    const r = await expectError(base(await seriesFile(c)), 'BACKTEST_DATA', 'column open');
    expect(existsSync(join(r.dir, 'artifacts', 'backtest', 'symbol=TEST', 'cycle=1', 'metrics.json'))).toBe(false);
  });
});
