/**
 * One paper-trading task: bars from the feed, each one through the backtester's engine and the
 * broker, committed as one durable transaction before the next bar is read; until `until`, the end
 * of a replay, or a stop (SIGTERM/SIGINT: the current bar is finished and committed first).
 * Heavy modules load here, never when the plugin's definition is imported.
 */
import type { TaskContext } from '@runner/core';
import { createEngine, type EngineState, type Fill, type Trade } from '@runner/plugin-backtest/engine';
import { reconcile, describeDifferences, type Difference } from '../broker/reconcile.js';
import { simulatedFills, toBrokerOrder } from '../broker/fill-model.js';
import { SimulatedBroker } from '../broker/simulated.js';
import type { Broker, BrokerFill } from '../broker/types.js';
import { resolveStrategy } from '../engine/strategy.js';
import type { Bar, Feed, FeedHealth, HealthListener } from '../feed/types.js';
import { cellKeyOf } from '../ledger/ids.js';
import { PaperLedger, type EquityPoint, type LedgerState, type TradeRecord } from '../ledger/ledger.js';
import type { PaperOptions } from '../schema.js';
import { openFeed } from './feeds.js';
import { sessionOf } from './session.js';
import { progressOf, type TraderView } from './status.js';
import { reachedBars, reachedTime, stopRule } from './until.js';
import { Latencies } from './latency.js';
import type { PaperResult } from '../result.js';
import { exportLedger } from '../export/export.js';

export async function runPaper(ctx: TaskContext<PaperOptions>): Promise<PaperResult> {
  const o = ctx.options;
  const { scope } = await sessionOf(ctx);
  const durable = o.durability === 'flushed';
  const ledger = new PaperLedger<EngineState>(ctx.db('ledger'), scope, durable);
  const saved = ledger.load();
  const feedHandle = await openFeed(ctx, saved?.lastTime ?? -Infinity, healthListener(ctx), saved?.lastBar);
  const symbol = o.symbol ?? (ctx.task.cell.symbol !== undefined ? String(ctx.task.cell.symbol) : feedHandle.symbol ?? 'ASSET');
  const { def, params } = await resolveStrategy(o.strategy);
  const config = { cash: o.cash, commission: o.commission, slippage: o.slippage, sizing: o.sizing, allowShort: o.allowShort, idPrefix: cellKeyOf(ctx.task.cell) };
  let fills: Fill[] = [];
  let rounds: Trade[] = [];
  const engine = createEngine({
    config,
    strategy: def,
    params,
    info: feedHandle.scale !== undefined ? { scale: feedHandle.scale } : {},
    hooks: { onFill: (f) => fills.push(f), onTrade: (t) => rounds.push(t) },
    ...(saved ? { state: saved.engine } : {}),
  });
  // As the backtester: the bars before the period warm the strategy up (nothing trades on them).
  // After a restart the engine comes from the ledger, warm-up included.
  const p = feedHandle.period;
  if (!saved && p && feedHandle.cols && p.from > p.warmFrom) engine.warm(feedHandle.cols, p.warmFrom, p.from);
  // The simulated broker lives in the same LMDB environment as the ledger, and LMDB makes commits
  // durable in order: the bar's flushed ledger commit flushes the broker's earlier commits too, and
  // a power loss before it loses both (the bar is then reprocessed). So its own commits need not
  // wait for a flush each.
  const broker: Broker = new SimulatedBroker(ctx.db('broker'), scope, simulatedFills(o), o.cash, false);
  const feed: Feed = feedHandle.feed;
  const rule = stopRule(o.until);
  let state: LedgerState<EngineState> = saved ?? { v: 1, bars: 0, lastTime: -Infinity, trades: 0, engine: engine.snapshot() };
  if (saved) ctx.log.info(`continuing after bar ${iso(saved.lastTime)}: ${saved.bars} bars, ${saved.trades} fills, cash ${saved.engine.cash}, position ${saved.engine.position}`);

  let differences: Difference[] | undefined;
  let fillMismatches = 0;
  const commitMs = new Latencies();
  const barMs = new Latencies();
  const view = (): TraderView => ({
    bars: state.bars,
    ...(rule.bars !== undefined ? { totalBars: rule.bars } : feedHandle.totalBars !== undefined ? { totalBars: feedHandle.totalBars } : {}),
    lastTime: state.lastTime,
    cash: engine.cash,
    position: engine.position,
    equity: engine.equity,
    startCash: o.cash,
    trades: state.trades,
    feed: feed.health(),
    reconcileDifferences: differences?.length ?? 0,
  });
  const checkBroker = async () => {
    const acct = await broker.account();
    differences = reconcile({ cash: engine.cash, positions: engine.position === 0 ? {} : { [symbol]: engine.position }, openOrders: engine.openOrders.map((x) => x.id) }, acct);
    if (differences.length > 0) {
      ctx.log.warn(`reconciliation with the ${broker.name} broker found ${differences.length} difference(s): ${describeDifferences(differences)}. The ledger is kept as it is; check the broker account`);
      ctx.emit('paper:reconcile', { ok: false, differences });
    } else {
      ctx.log.info(`reconciled with the ${broker.name} broker: cash, positions and open orders agree`);
      ctx.emit('paper:reconcile', { ok: true, differences: [] });
    }
  };

  const untilCtl = new AbortController();
  // A live feed also stops when the wall clock passes until.time; a replay goes by bar time only.
  const untilTimer = rule.time !== undefined && o.feed.type === 'poll' ? setTimeout(() => untilCtl.abort(new Error('until.time reached')), Math.max(0, Math.min(rule.time - Date.now(), 2 ** 31 - 1))) : undefined;
  const waitSignal = AbortSignal.any([ctx.signal, untilCtl.signal]);
  const ticker = setInterval(() => ctx.progress(progressOf(view())), 1000);
  ctx.progress(progressOf(view()));
  let reason: 'until' | 'ended' | 'stopped' = 'stopped';
  try {
    for (;;) {
      if (reachedBars(rule, state.bars)) {
        reason = 'until';
        break;
      }
      if (ctx.signal.aborted) break;
      let bar: Bar | undefined;
      try {
        bar = await feed.next(waitSignal);
      } catch (err) {
        if (ctx.signal.aborted) break;
        if (untilCtl.signal.aborted) {
          reason = 'until';
          break;
        }
        throw err;
      }
      if (!bar) {
        reason = 'ended';
        break;
      }
      if (reachedTime(rule, bar.time)) {
        reason = 'until';
        break;
      }
      // From here the bar is finished and committed even if a stop arrives meanwhile.
      const t0 = performance.now();
      fills = [];
      rounds = [];
      const before = new Map(engine.openOrders.map((x) => [x.id, x]));
      const brokerFills = await broker.settle(bar);
      engine.onBar({ time: bar.time, open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume, signal: bar.signal ?? NaN });
      const mismatch = compareFills(fills, brokerFills);
      if (mismatch) {
        fillMismatches++;
        ctx.log.warn(`bar ${iso(bar.time)}: the broker's fills differ from the engine's: ${mismatch}`);
        ctx.emit('paper:fill-mismatch', { time: bar.time, message: mismatch });
      }
      const filled = new Set(fills.map((f) => f.orderId));
      const after = new Set(engine.openOrders.map((x) => x.id));
      for (const id of before.keys()) if (!after.has(id) && !filled.has(id)) await broker.cancel(id);
      for (const ord of engine.openOrders) if (!before.has(ord.id)) await broker.submit(toBrokerOrder(ord, symbol));
      const trades: TradeRecord[] = fills.map((f, k) => ({
        seq: state.trades + k,
        orderId: f.orderId,
        symbol,
        side: f.side,
        qty: f.qty,
        price: f.price,
        commission: f.commission,
        time: f.time,
        intent: f.intent,
        cashAfter: f.cash,
        positionAfter: f.position,
        engine: { ...f },
      }));
      const equity: EquityPoint = { time: bar.time, close: bar.close, cash: engine.cash, position: engine.position, equity: engine.equity };
      const next: LedgerState<EngineState> = { v: 1, bars: state.bars + 1, lastTime: bar.time, trades: state.trades + trades.length, engine: engine.snapshot(), lastBar: { time: bar.time, open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume } };
      const t1 = performance.now();
      await ledger.commit({ state: next, trades, equity, rounds });
      const t2 = performance.now();
      commitMs.add(t2 - t1);
      barMs.add(t2 - t0);
      state = next;
      for (const t of trades) ctx.log.info(`fill ${t.side} ${t.qty} ${symbol} @ ${t.price} (${t.intent}, order ${t.orderId})`);
      ctx.log.debug(`bar ${iso(bar.time)} committed (#${state.bars}, equity ${engine.equity})`);
      ctx.progress(progressOf(view()));
      if (differences === undefined) await checkBroker();
    }
    if (differences === undefined) await checkBroker();
  } finally {
    clearInterval(ticker);
    if (untilTimer) clearTimeout(untilTimer);
    await feed.close();
    await broker.close();
  }
  ctx.progress(progressOf(view()));
  if (reason === 'stopped') {
    ctx.log.info(`stopped after bar ${iso(state.lastTime)} (${state.bars} bars committed); starting the run again continues after it`);
    throw ctx.signal.reason;
  }
  ctx.log.info(reason === 'ended' ? `the replay has no more bars after ${iso(state.lastTime)}` : `until reached after bar ${iso(state.lastTime)}`);
  const health: FeedHealth = feed.health();
  const files = o.report ? await exportLedger(ctx, ledger, { symbol, startCash: o.cash, title: `${ctx.task.id} (paper)` }) : undefined;
  const pnl = engine.equity - o.cash;
  return {
    headline: `P&L ${pnl >= 0 ? '+' : ''}${pnl.toFixed(2)} (${pnl >= 0 ? '+' : ''}${((pnl / o.cash) * 100).toFixed(2)}%), ${state.bars} bars, ${state.trades} fills, position ${engine.position}, last bar ${iso(state.lastTime)}`,
    symbol,
    bars: state.bars,
    fills: state.trades,
    roundTrips: engine.tradeCount,
    cash: engine.cash,
    position: engine.position,
    equity: engine.equity,
    pnl,
    returnPct: (engine.equity / o.cash - 1) * 100,
    commission: engine.commissionPaid,
    lastBarTime: Number.isFinite(state.lastTime) ? iso(state.lastTime) : null,
    stoppedBy: reason,
    feed: { errors: health.errors, retries: health.retries, duplicates: health.duplicates, rejected: health.rejected },
    reconcile: { broker: broker.name, differences: differences ?? [] },
    duplicatesSuppressed: ledger.duplicatesSuppressed,
    fillMismatches,
    latency: { durability: o.durability, commit: commitMs.summary(), bar: barMs.summary() },
    ...(files ? { files } : {}),
  };
}

function iso(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString() : 'none';
}

function healthListener(ctx: TaskContext<PaperOptions>): HealthListener {
  return (_h, e) => {
    if (!e) return;
    ctx.emit('paper:feed', e);
    if (e.kind === 'error' || e.kind === 'rejected' || e.kind === 'stalled') ctx.log.warn(`feed: ${e.message}`);
    else if (e.kind === 'recovered') ctx.log.info(`feed: ${e.message}`);
    else ctx.log.debug(`feed: ${e.message}`);
  };
}

/** Undefined when the broker reported exactly the fills the engine booked. */
function compareFills(engine: Fill[], broker: BrokerFill[]): string | undefined {
  const b = new Map(broker.map((f) => [f.orderId, f]));
  const problems: string[] = [];
  for (const f of engine) {
    const x = b.get(f.orderId);
    if (!x) problems.push(`${f.orderId} filled in the engine, not at the broker`);
    else if (x.qty !== f.qty || x.price !== f.price || x.commission !== f.commission) problems.push(`${f.orderId}: engine ${f.qty} @ ${f.price} (commission ${f.commission}), broker ${x.qty} @ ${x.price} (commission ${x.commission})`);
    b.delete(f.orderId);
  }
  for (const id of b.keys()) problems.push(`${id} filled at the broker, not in the engine`);
  return problems.length > 0 ? problems.join('; ') : undefined;
}
