/**
 * A model strategy on a paper replay: the upstream trainer's model (really trained with TF.js on a
 * small series, the most recent quarter held out by `split.test`) trades only the bars after its
 * training and validation data, with the same fills and equity as the backtester's model strategy
 * over the same period; an in-sample period needs allowInSample; `until: { bars }` counts from the
 * first replayed bar; a poll feed refuses the model strategy; a crash mid-replay resumes to the
 * same files.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { UpstreamTask } from '@runner/core';
import { runPlugin } from '@runner/core/testing';
import { writeSeries } from '@runner/core/series';
import trainPlugin from '@runner/plugin-train';
import { syntheticSeries } from '@runner/plugin-train/synthetic';
import backtestPlugin from '@runner/plugin-backtest';
import plugin from '../src/index.js';

const ROWS = 1100;
const CELL = { symbol: 'AAA' };
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'paper-model-'));
  dirs.push(d);
  return d;
};
let all: ReturnType<typeof syntheticSeries>;
let file: string;
let dataEnd: number;
/** Index of the first bar after the training and validation data. */
let first: number;
let upstream: Record<string, UpstreamTask>;

beforeAll(async () => {
  all = syntheticSeries(ROWS, 21);
  const dir = tmp();
  file = join(dir, 'AAA.arrow');
  await writeSeries(file, all as never, { symbol: 'AAA' });
  const t = await runPlugin(trainPlugin as never, {
    data: { file, label: { forwardReturn: 1 }, split: { val: 0.2, test: 0.25 } },
    model: { layers: [{ dense: { units: 8, activation: 'relu' } }, { dense: { units: 1 } }] },
    epochs: 2,
    batchSize: 64,
    backend: 'cpu',
  });
  expect(t.outcome, JSON.stringify(t.error)).toBe('completed');
  const result = t.result as { normaliser: string };
  dataEnd = JSON.parse(readFileSync(result.normaliser, 'utf8')).dataEnd;
  first = Array.from(all.time).findIndex((x) => x > dataEnd);
  upstream = {
    train: { id: 'train/cycle=1', stage: 'train', cell: {}, result, artifactDir: tmp() },
    download: { id: 'download/symbol=AAA/cycle=1', stage: 'download', cell: CELL, result: { file }, artifactDir: dir },
  };
}, 180_000);
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TRADING = { cash: 100_000, commission: { pct: 0.1 }, slippage: { bps: 2 }, sizing: { units: 1 } };
const ZERO = { type: 'model', from: 'train', enterAbove: 0, exitBelow: 0 };

const paper = (options: Record<string, unknown>, dir = tmp(), extra: Record<string, unknown> = {}) =>
  runPlugin<object, any>(plugin as never, { feed: { type: 'replay', from: 'download', speed: 'max' }, ...TRADING, ...options } as never, {
    dir,
    task: { id: 'paper/symbol=AAA/cycle=1', cell: CELL },
    upstream,
    ...extra,
  });

const csvRows = (path: string) => readFileSync(path, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));

/** Fills as [order id, time ms, side, qty, price, commission] and equity as [time ms, equity], from the paper's export. */
function paperTables(r: { result?: any; dir: string }) {
  const f = r.result.files;
  const at = (p: string) => (p.startsWith('/') ? p : join(r.dir, p));
  const fills = csvRows(at(f.fills.csv)).map((c) => [c[2], Number(c[1]), c[4], Number(c[5]), Number(c[6]), Number(c[7])]);
  const equity = csvRows(at(f.equity.csv)).map((c) => [Number(c[0]), Number(c[4])]);
  return { fills, equity };
}

test('the model trained with a held-out test split records where its data end', () => {
  expect(first).toBeGreaterThan(ROWS * 0.6);
  expect(first).toBeLessThan(ROWS * 0.9);
  expect(all.time[first - 1]).toBeLessThanOrEqual(dataEnd);
});

test('by default it replays only bars after the training data, with the backtester\'s fills and equity', async () => {
  const r = await paper({ strategy: ZERO });
  expect(r.outcome, JSON.stringify(r.error)).toBe('completed');
  expect(r.result.bars).toBe(ROWS - first);
  expect(r.result.stoppedBy).toBe('ended');
  const p = paperTables(r);
  expect(p.fills.length).toBeGreaterThan(2);
  // Not a bar inside the training or validation data: neither traded nor even replayed.
  expect(Math.min(...p.fills.map((x) => x[1] as number))).toBeGreaterThan(dataEnd);
  expect(p.equity[0]![0]).toBe(all.time[first]);
  expect(p.equity).toHaveLength(ROWS - first);

  const b = await runPlugin<object, any>(backtestPlugin as never, { data: { file }, strategy: ZERO, ...TRADING, checkpoint: { everyBars: 100 } } as never, {
    upstream,
    task: { id: 'backtest/symbol=AAA/cycle=1', cell: CELL },
  });
  expect(b.outcome, JSON.stringify(b.error)).toBe('completed');
  expect(b.result.period.bars).toBe(ROWS - first);
  const bFills = csvRows(b.result.files['fills.csv']).map((c) => [c[0], Date.parse(c[2]!), c[3], Number(c[6]), Number(c[7]), Number(c[8])]);
  const bEquity = csvRows(b.result.files['equity.csv']).map((c) => [Date.parse(c[0]!), Number(c[2])]);
  expect(p.fills).toEqual(bFills);
  expect(p.equity).toEqual(bEquity);
}, 120_000);

test('always long: the first fill is at the open of the second replayed bar', async () => {
  const r = await paper({ strategy: { type: 'model', from: 'train', enterAbove: -1e9, exitBelow: -2e9 } });
  expect(r.outcome, JSON.stringify(r.error)).toBe('completed');
  const p = paperTables(r);
  expect(p.fills).toHaveLength(1);
  expect(p.fills[0]![1]).toBe(all.time[first + 1]);
}, 120_000);

test('an explicit period inside the training data is refused unless allowInSample', async () => {
  const start = new Date(all.time[300]!).toISOString();
  const end = new Date(all.time[400]!).toISOString();
  const refused = await paper({ strategy: ZERO, period: { start, end } });
  expect(refused.outcome).toBe('failed');
  expect(refused.error!.cause?.code ?? refused.error!.code).toBe('BACKTEST_PERIOD');
  expect(refused.error!.message).toContain("inside train/cycle=1's training and validation data");
  const allowed = await paper({ strategy: ZERO, period: { start, end }, allowInSample: true });
  expect(allowed.outcome, JSON.stringify(allowed.error)).toBe('completed');
  expect(allowed.result.bars).toBe(100);
  expect(allowed.logs.some((l) => l.message.includes('IN-SAMPLE'))).toBe(true);
}, 120_000);

test('until: { bars } counts from the first replayed bar', async () => {
  const r = await paper({ strategy: ZERO, until: { bars: 25 } });
  expect(r.outcome, JSON.stringify(r.error)).toBe('completed');
  expect(r.result).toMatchObject({ bars: 25, stoppedBy: 'until', lastBarTime: new Date(all.time[first + 24]!).toISOString() });
}, 120_000);

test('a poll feed refuses the model strategy with PAPER_CONFIG', async () => {
  const r = await runPlugin<object, any>(plugin as never, { feed: { type: 'poll', url: 'http://127.0.0.1:9/bars' }, strategy: ZERO, ...TRADING } as never, {
    dir: tmp(),
    task: { id: 'paper/symbol=AAA/cycle=1', cell: CELL },
    upstream,
  });
  expect(r.outcome).toBe('failed');
  expect(r.error!.cause?.code ?? r.error!.code).toBe('PAPER_CONFIG');
  expect(r.error!.message).toContain('needs a replay feed');
});

test('a crash mid-replay resumes after the last committed bar: the same files as an uninterrupted run', async () => {
  const ref = await paper({ strategy: ZERO });
  const dir = tmp();
  const crashed = await paper({ strategy: ZERO }, dir, { crashAtStep: Math.floor((ROWS - first) / 2) });
  expect(crashed.outcome).toBe('crashed');
  const resumed = await paper({ strategy: ZERO }, dir);
  expect(resumed.outcome, JSON.stringify(resumed.error)).toBe('completed');
  expect(resumed.logs.some((l) => l.message.startsWith('continuing after bar'))).toBe(true);
  expect(resumed.result.fillMismatches).toBe(0);
  expect(paperTables(resumed)).toEqual(paperTables(ref));
}, 120_000);

test('a rule strategy over an explicit period warms up on the bars before it, as the backtester does', async () => {
  const period = { start: new Date(all.time[500]!).toISOString(), end: new Date(all.time[800]!).toISOString() };
  const strategy = { type: 'sma-cross', fast: 3, slow: 8 };
  const r = await paper({ strategy, period });
  expect(r.outcome, JSON.stringify(r.error)).toBe('completed');
  expect(r.result.bars).toBe(300);
  const p = paperTables(r);
  expect(p.fills.length).toBeGreaterThan(5);
  const b = await runPlugin<object, any>(backtestPlugin as never, { data: { file }, strategy, period, ...TRADING, checkpoint: { everyBars: 100 } } as never, {
    task: { id: 'backtest/symbol=AAA/cycle=1', cell: CELL },
  });
  expect(b.outcome, JSON.stringify(b.error)).toBe('completed');
  // Warmed up, the first crossing can come on the period's first bars (a cold start needs 8 bars).
  expect(p.fills).toEqual(csvRows(b.result.files['fills.csv']).map((c) => [c[0], Date.parse(c[2]!), c[3], Number(c[6]), Number(c[7]), Number(c[8])]));
  expect(p.equity).toEqual(csvRows(b.result.files['equity.csv']).map((c) => [Date.parse(c[0]!), Number(c[2])]));
}, 120_000);

test('period on a poll feed is refused with PAPER_CONFIG', async () => {
  const r = await runPlugin<object, any>(plugin as never, { feed: { type: 'poll', url: 'http://127.0.0.1:9/bars' }, strategy: { type: 'sma-cross', fast: 3, slow: 8 }, period: { start: '2024-01-01' }, ...TRADING } as never, {
    dir: tmp(),
    task: { id: 'paper/symbol=AAA/cycle=1', cell: CELL },
  });
  expect(r.outcome).toBe('failed');
  expect(r.error!.cause?.code ?? r.error!.code).toBe('PAPER_CONFIG');
});
