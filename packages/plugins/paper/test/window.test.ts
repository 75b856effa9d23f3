/**
 * The crash window every trading system has: the broker has committed a bar's orders or fills,
 * the trader's ledger has not. We build exactly the state such a crash leaves on disk (the real
 * engine and the real simulated broker step one bar further than the ledger), once on a bar that
 * places an order and once on a bar that fills one, then start the trader again: it reprocesses
 * that bar, the broker recognises the order id and returns the recorded fills, and the final
 * trade log and equity are byte-identical to an uninterrupted replay; nothing booked twice, the
 * broker agrees.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { openPluginDb, RunStore } from '@runner/core';
import { runPlugin } from '@runner/core/testing';
import { writeSeries } from '@runner/core/series';
import { createEngine, builtinStrategy, inferScale, type EngineState } from '@runner/plugin-backtest/engine';
import plugin from '../src/index.js';
import { simulatedFills, toBrokerOrder } from '../src/broker/fill-model.js';
import { SimulatedBroker } from '../src/broker/simulated.js';
import { PaperLedger } from '../src/ledger/ledger.js';
import type { PaperOptions } from '../src/schema.js';
import { BARS, columnsOf, STRATEGY } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'paper-window-'));
  dirs.push(d);
  return d;
};

const OPTIONS = {
  feed: { type: 'replay', from: 'download', speed: 'max' },
  strategy: { type: 'sma-cross', ...STRATEGY },
  cash: 100000,
  commission: { pct: 0.1 },
  slippage: { bps: 2 },
  sizing: { units: 10 },
  durability: 'flushed',
  broker: { type: 'simulated' },
  allowShort: false,
  report: true,
} as const;

async function trader(dir: string, file: string, until: unknown) {
  const r = await runPlugin(plugin, { ...OPTIONS, until } as never, {
    dir,
    task: { id: 'paper/symbol=AAA/cycle=1', stage: 'paper', cell: { symbol: 'AAA' } },
    upstream: { download: { id: 'download/symbol=AAA/cycle=1', stage: 'download', cell: { symbol: 'AAA' }, result: { file }, artifactDir: dir } },
  });
  expect(r.outcome, r.error?.message).toBe('completed');
  return r.result as any;
}

/** What a crash right after the broker's commits and before the ledger's leaves on disk. */
async function brokerAheadByOneBar(dir: string, k: number): Promise<{ placed: number; filled: number }> {
  const store = RunStore.open(dir);
  try {
    const ledgerDb = openPluginDb(store, 'paper', 'ledger');
    const stateKey = [...ledgerDb.range()].find((e) => Array.isArray(e.key) && e.key[0] === 'state')!.key as string[];
    const scope = stateKey[1]!;
    const state = new PaperLedger<EngineState>(ledgerDb, scope, true).load()!;
    expect(state.bars).toBe(k);
    const cols = columnsOf(BARS);
    const engine = createEngine({
      config: { cash: OPTIONS.cash, commission: OPTIONS.commission, slippage: OPTIONS.slippage, sizing: OPTIONS.sizing, allowShort: false, idPrefix: 'symbol=AAA' },
      strategy: builtinStrategy('sma-cross'),
      params: STRATEGY,
      info: { scale: inferScale(cols.close) },
      state: state.engine,
    });
    const broker = new SimulatedBroker(openPluginDb(store, 'paper', 'broker'), scope, simulatedFills(OPTIONS as unknown as PaperOptions), OPTIONS.cash);
    const b = BARS[k]!;
    const before = new Set(engine.openOrders.map((o) => o.id));
    const fills = await broker.settle(b);
    engine.onBar({ ...b, signal: NaN });
    let placed = 0;
    for (const o of engine.openOrders) if (!before.has(o.id)) placed += (await broker.submit(toBrokerOrder(o, 'AAA'))).known ? 0 : 1;
    return { placed, filled: fills.length };
  } finally {
    await store.close();
  }
}

/** Bars (index k) on which an uninterrupted engine places an order, and on which one fills. */
function interestingBars(): { place: number; fill: number } {
  const cols = columnsOf(BARS);
  const fillsAt = new Set<number>();
  const engine = createEngine({
    config: { cash: OPTIONS.cash, commission: OPTIONS.commission, slippage: OPTIONS.slippage, sizing: OPTIONS.sizing, allowShort: false, idPrefix: 'symbol=AAA' },
    strategy: builtinStrategy('sma-cross'),
    params: STRATEGY,
    info: { scale: inferScale(cols.close) },
    hooks: { onFill: (f) => fillsAt.add(f.bar) },
  });
  let place = -1;
  for (let i = 0; i < 400; i++) {
    const n = engine.openOrders.length;
    engine.processBar(cols, i);
    if (place < 0 && i > 100 && engine.openOrders.length > n) place = i;
  }
  const fill = [...fillsAt].find((i) => i > place + 20)!;
  return { place, fill };
}

test('a crash after the broker committed a bar and before the ledger did: reprocessing books nothing twice', async () => {
  const file = join(tmp(), 'AAA.arrow');
  await writeSeries(file, columnsOf(BARS), { symbol: 'AAA' });
  const refDir = tmp();
  const ref = await trader(refDir, file, 'forever');
  const read = (dir: string, p: string) => readFileSync(join(dir, p), 'utf8');

  const { place, fill } = interestingBars();
  const dir = tmp();
  await trader(dir, file, { bars: place });
  expect(await brokerAheadByOneBar(dir, place)).toMatchObject({ placed: 1 });
  await trader(dir, file, { bars: fill });
  expect((await brokerAheadByOneBar(dir, fill)).filled).toBeGreaterThan(0);
  const done = await trader(dir, file, 'forever');

  expect(done.bars).toBe(BARS.length);
  expect(done.duplicatesSuppressed).toBe(0);
  expect(done.fillMismatches).toBe(0);
  expect(done.reconcile.differences).toEqual([]);
  expect(read(dir, done.files.fills.csv)).toBe(read(refDir, ref.files.fills.csv));
  expect(read(dir, done.files.trades.csv)).toBe(read(refDir, ref.files.trades.csv));
  expect(read(dir, done.files.equity.csv)).toBe(read(refDir, ref.files.equity.csv));
  const ids = read(dir, done.files.fills.csv).trim().split('\n').slice(1).map((l) => l.split(',')[2]);
  expect(new Set(ids).size).toBe(ids.length);
});
