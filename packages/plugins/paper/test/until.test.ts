/**
 * `until` in process (the core's test kit, a real store): a bar count, a bar time on a replay,
 * and the wall clock passing `until.time` while a live feed has nothing new.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { runPlugin } from '@runner/core/testing';
import { writeSeries } from '@runner/core/series';
import plugin from '../src/index.js';
import { FeedServer, syntheticBars } from '../src/testing/feed-server.js';
import { columnsOf } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'paper-until-'));
  dirs.push(d);
  return d;
};
const BARS = syntheticBars(200, { seed: 3 });
const base = { strategy: { type: 'sma-cross', fast: 3, slow: 8 }, cash: 10000, sizing: { units: 1 }, report: false } as const;

async function replay(until: unknown) {
  const dir = tmp();
  const file = join(dir, 'AAA.arrow');
  await writeSeries(file, columnsOf(BARS), { symbol: 'AAA' });
  return runPlugin(plugin, { ...base, feed: { type: 'replay', from: 'download', speed: 'max' }, until } as never, {
    dir,
    task: { id: 'paper/symbol=AAA/cycle=1', cell: { symbol: 'AAA' } },
    upstream: { download: { id: 'download/symbol=AAA/cycle=1', stage: 'download', cell: { symbol: 'AAA' }, result: { file }, artifactDir: dir } },
  });
}

test('until bars and until a bar time on a replay', async () => {
  const a = await replay({ bars: 50 });
  expect(a.outcome).toBe('completed');
  expect(a.result).toMatchObject({ bars: 50, stoppedBy: 'until', lastBarTime: new Date(BARS[49]!.time).toISOString() });
  const b = await replay({ time: new Date(BARS[120]!.time).toISOString().replace('.000Z', '') });
  expect(b.result).toMatchObject({ bars: 120, stoppedBy: 'until', lastBarTime: new Date(BARS[119]!.time).toISOString() });
  const c = await replay('forever');
  expect(c.result).toMatchObject({ bars: 200, stoppedBy: 'ended' });
});

test('until a wall-clock time: a live trader with nothing new stops when the time passes', async () => {
  const server = await FeedServer.start();
  try {
    server.push(...BARS.slice(0, 10));
    const until = new Date(Date.now() + 1500).toISOString();
    const r = await runPlugin(plugin, { ...base, feed: { type: 'poll', url: server.url, intervalMs: 50 }, until: { time: until } } as never, {
      dir: tmp(),
      task: { id: 'paper/symbol=AAA/cycle=1', cell: { symbol: 'AAA' } },
    });
    expect(r.outcome).toBe('completed');
    expect(r.result).toMatchObject({ bars: 10, stoppedBy: 'until' });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(until));
  } finally {
    await server.close();
  }
});
