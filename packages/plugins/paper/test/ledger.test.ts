/**
 * The ledger and the simulated broker on a real run store: a bar's commit is all or nothing, a
 * booked order id is never booked again, bars must move forward; the broker's submit is
 * idempotent on the order id and settling a bar twice gives the same fills, once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { openPluginDb, RunStore } from '@runner/core';
import { SimulatedBroker } from '../src/broker/simulated.js';
import { PaperLedger, type TradeRecord } from '../src/ledger/ledger.js';
import { syntheticBars } from '../src/testing/feed-server.js';

const dirs: string[] = [];
const stores: RunStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(dir?: string) {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'paper-ledger-'));
  if (!dir) dirs.push(d);
  const store = RunStore.open(d);
  stores.push(store);
  return { dir: d, store };
}

const trade = (seq: number, orderId: string, time: number): TradeRecord => ({
  seq,
  orderId,
  symbol: 'AAA',
  side: 'buy',
  qty: 1,
  price: 100,
  commission: 0.1,
  time,
  intent: 'enter-long',
  cashAfter: 900,
  positionAfter: 1,
});

test('a committed bar is all there after reopening; an order id is never booked twice; bars move forward', async () => {
  const { dir, store } = open();
  const ledger = new PaperLedger(openPluginDb(store, 'paper', 'ledger'), 't#1', true);
  const eq = (time: number) => ({ time, close: 100, cash: 900, position: 1, equity: 1000 });
  await ledger.commit({ state: { v: 1, bars: 1, lastTime: 1000, trades: 1, engine: { x: new Float64Array([1, 2]) } }, trades: [trade(0, 'a|1000|buy', 1000)], equity: eq(1000) });
  // The same order id again (as a reprocessed bar would book it): suppressed, not booked.
  await ledger.commit({ state: { v: 1, bars: 2, lastTime: 2000, trades: 2, engine: { x: new Float64Array([3]) } }, trades: [trade(1, 'a|1000|buy', 2000)], equity: eq(2000) });
  expect(ledger.duplicatesSuppressed).toBe(1);
  await expect(ledger.commit({ state: { v: 1, bars: 3, lastTime: 1500, trades: 2, engine: {} }, trades: [], equity: eq(1500) })).rejects.toMatchObject({ code: 'PAPER_STATE' });
  await stores.pop()!.close();

  const again = open(dir);
  const reopened = new PaperLedger(openPluginDb(again.store, 'paper', 'ledger'), 't#1', true);
  const st = reopened.load()!;
  expect(st.bars).toBe(2);
  expect(st.lastTime).toBe(2000);
  expect(st.engine).toEqual({ x: new Float64Array([3]) });
  expect([...reopened.trades()].map((t) => t.orderId)).toEqual(['a|1000|buy']);
  expect([...reopened.equity()].map((e) => e.time)).toEqual([1000, 2000]);
  // Another session's keys are separate.
  expect(new PaperLedger(openPluginDb(again.store, 'paper', 'ledger'), 't#2', true).load()).toBeUndefined();
});

test('the simulated broker: idempotent submit, repeatable settle, its own account', async () => {
  const { store } = open();
  const bars = syntheticBars(4);
  const broker = new SimulatedBroker(openPluginDb(store, 'paper', 'broker'), 't#1', (_o, bar) => ({ price: bar.open, commission: 1 }), 1000);
  const order = { id: 'c|1|enter-long', symbol: 'AAA', side: 'buy' as const, qty: 2, type: 'market' as const, placedAt: bars[0]!.time, intent: 'enter-long' };
  expect(await broker.submit(order)).toMatchObject({ state: 'open', known: false });
  expect(await broker.submit(order)).toMatchObject({ state: 'open', known: true });
  // Not on the bar it was placed on.
  expect(await broker.settle(bars[0]!)).toEqual([]);
  const fills = await broker.settle(bars[1]!);
  expect(fills).toEqual([{ orderId: order.id, symbol: 'AAA', side: 'buy', qty: 2, price: bars[1]!.open, commission: 1, time: bars[1]!.time }]);
  // Asked again for the same bar (a restart before the trader committed it): the same fills, booked once.
  expect(await broker.settle(bars[1]!)).toEqual(fills);
  const acct = await broker.account();
  expect(acct).toEqual({ cash: 1000 - 2 * bars[1]!.open - 1, positions: { AAA: 2 }, openOrders: [] });
  expect(await broker.submit(order)).toMatchObject({ state: 'filled', known: true });
  expect(await broker.settle(bars[2]!)).toEqual([]);
  expect((await broker.account()).cash).toBe(acct.cash);
});
