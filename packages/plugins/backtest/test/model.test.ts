/**
 * A model strategy: the upstream trainer's model (really trained with TF.js on a small series)
 * trades only bars after its training and validation data unless allowInSample says otherwise;
 * features that the series cannot give, and a period with nothing after training, are refused.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamTask } from '@runner/core';
import { runPlugin } from '@runner/core/testing';
import trainPlugin from '@runner/plugin-train';
import { syntheticSeries } from '@runner/plugin-train/synthetic';
import plugin, { type BacktestResult } from '../src/index.js';
import { seriesFile, tmp } from './helpers.js';

const TRAIN_ROWS = 700;
const ALL_ROWS = 1100;
let trainFile: string;
let allFile: string;
let all: ReturnType<typeof syntheticSeries>;
let upstream: Record<string, UpstreamTask>;
let dataEnd: number;

const slice = (s: Record<string, Float64Array>, n: number) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.slice(0, n)]));

beforeAll(async () => {
  all = syntheticSeries(ALL_ROWS, 21);
  const dir = tmp();
  trainFile = await seriesFile(slice(all as never, TRAIN_ROWS), 'TRAIN', dir);
  allFile = await seriesFile(all as never, 'ALL', dir);
  const t = await runPlugin(trainPlugin as never, {
    data: { file: trainFile, label: { forwardReturn: 1 }, split: { val: 0.2 } },
    model: { layers: [{ dense: { units: 8, activation: 'relu' } }, { dense: { units: 1 } }] },
    epochs: 2,
    batchSize: 64,
    backend: 'cpu',
  });
  expect(t.outcome, JSON.stringify(t.error)).toBe('completed');
  const result = t.result as { normaliser: string };
  dataEnd = JSON.parse(readFileSync(result.normaliser, 'utf8')).dataEnd;
  upstream = { train: { id: 'train/cycle=1', stage: 'train', cell: {}, result, artifactDir: tmp() } };
}, 180_000);

const run = (options: Record<string, unknown>) =>
  runPlugin<object, BacktestResult>(plugin as never, { data: { file: allFile }, sizing: { units: 1 }, checkpoint: { everyBars: 100 }, ...options }, { upstream, task: { id: 'backtest/cycle=1', cell: {} } });

describe('model strategy', () => {
  it('records where the training and validation data end: the label of the last sample', () => {
    // The last sample ends where its 1-bar-ahead label is still inside the training file.
    expect(dataEnd).toBe(all.time[TRAIN_ROWS - 1]);
  });

  it('by default trades only bars after the training data', async () => {
    // Always long: the earliest possible fill is the open of the second bar after the training data.
    const r = await run({ strategy: { type: 'model', from: 'train', enterAbove: -1e9, exitBelow: -2e9 } });
    expect(r.outcome, JSON.stringify(r.error)).toBe('completed');
    const res = r.result!;
    expect(res.period.bars).toBe(ALL_ROWS - TRAIN_ROWS);
    expect(Date.parse(res.period.start)).toBe(all.time[TRAIN_ROWS]);
    expect(res.period.inSample).toBe(false);
    const fills = readFileSync(res.files['fills.csv']!, 'utf8').trim().split('\n').slice(1);
    expect(fills).toHaveLength(1);
    expect(fills[0]).toContain(new Date(all.time[TRAIN_ROWS + 1]!).toISOString());
    expect(res.model!.predictions).toBeGreaterThan(ALL_ROWS - 100);

    // Thresholds at 0: it trades, and never on a bar at or before the end of the training data.
    const z = await run({ strategy: { type: 'model', from: 'train', enterAbove: 0, exitBelow: 0 } });
    const times = readFileSync(z.result!.files['fills.csv']!, 'utf8').trim().split('\n').slice(1).map((l) => Date.parse(l.split(',')[2]!));
    expect(times.length).toBeGreaterThan(0);
    expect(Math.min(...times)).toBeGreaterThan(dataEnd);
  });

  it('refuses an explicit period inside the training data unless allowInSample, and then says so', async () => {
    const start = new Date(all.time[300]!).toISOString();
    const refused = await run({ strategy: { type: 'model', from: 'train' }, period: { start } });
    expect(refused.outcome).toBe('failed');
    expect(refused.error!.cause?.code ?? refused.error!.code).toBe('BACKTEST_PERIOD');
    expect(refused.error!.message).toContain("inside train/cycle=1's training and validation data");

    const allowed = await run({ strategy: { type: 'model', from: 'train', enterAbove: -1e9, exitBelow: -2e9 }, period: { start }, allowInSample: true });
    expect(allowed.outcome).toBe('completed');
    expect(allowed.result!.period.inSample).toBe(true);
    expect(readFileSync(allowed.result!.files['report.html']!, 'utf8')).toContain('In-sample:');
    const first = readFileSync(allowed.result!.files['fills.csv']!, 'utf8').trim().split('\n')[1]!;
    expect(first).toContain(new Date(all.time[301]!).toISOString());
  });

  it('a series without the columns the model was trained on, and one that ends with the training data', async () => {
    const noVolume = await seriesFile({ time: all.time, open: all.open, high: all.high, low: all.low, close: all.close });
    const f = await runPlugin<object, BacktestResult>(plugin as never, { data: { file: noVolume }, strategy: { type: 'model', from: 'train' } }, { upstream });
    expect(f.outcome, JSON.stringify(f.result?.model)).toBe('failed');
    expect(f.error!.cause?.code ?? f.error!.code).toBe('BACKTEST_FEATURES');
    expect(f.error!.message).toContain(noVolume);
    expect(f.error!.message).toContain('volume');

    const same = await runPlugin<object, BacktestResult>(plugin as never, { data: { file: trainFile }, strategy: { type: 'model', from: 'train' } }, { upstream });
    expect(same.outcome).toBe('failed');
    expect(same.error!.cause?.code ?? same.error!.code).toBe('BACKTEST_PERIOD');
    expect(same.error!.message).toContain('no bars after the training split');
  });
});
