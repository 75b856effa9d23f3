/**
 * One backtest task: load and check the bars, resolve the strategy (and the model's signal),
 * choose the period, then step the engine in chunks, checkpointing by bars or time and on
 * cancellation and failure, with fills, trades and per-bar equity in an append-only journal.
 * A resumed run restores the engine and the journal marks from the checkpoint and continues;
 * its fills and equity are bit-identical to an uninterrupted run's.
 */
import { join } from 'node:path';
import type { TaskContext } from '@runner/core';
import { createEngine, type EngineState } from './engine/engine.js';
import type { BarColumns, Fill, Trade } from './engine/types.js';
import { loadSeries, seriesFile, type LoadedSeries } from './data/series.js';
import { Intents, Journal, rebuildBars, type JournalMarks } from './journal.js';
import { resolvePeriod, type Period } from './period.js';
import type { BacktestOptions } from './schema.js';
import { modelSignal, type ModelSignal } from './strategy/model-signal.js';
import { resolveStrategy, type ResolvedStrategy } from './strategy/resolve.js';
import { writeResults, type BacktestResult } from './results/write.js';
import { effectiveContext } from './best-params.js';

export const CHECKPOINT_FORMAT = 'runner-backtest/1';

interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  /** Next row of the series to process. */
  row: number;
  from: number;
  to: number;
  firstTime: number;
  engine: EngineState;
  journal: JournalMarks;
  /** The journal's intent table. */
  intents: string[];
}

/** Bars per chunk when checkpoints go by time (a few milliseconds of work). */
const TIME_CHUNK = 1 << 16;
/** Checkpoint saves in flight at once; LMDB commits queued ones together. */
const MAX_INFLIGHT = 256;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface Prepared {
  where: string;
  series: LoadedSeries;
  strategy: ResolvedStrategy;
  model?: ModelSignal;
  period: Period;
  cols: BarColumns;
}

export function cellLabel(ctx: TaskContext<BacktestOptions>): string {
  const entries = Object.entries(ctx.task.cell);
  return entries.length > 0 ? entries.map(([k, v]) => `${k}=${v}`).join('/') : ctx.task.id;
}

/** Everything before the first bar: data, strategy, model signal, period. Throws the spec's errors. */
export async function prepare(ctx: TaskContext<BacktestOptions>): Promise<Prepared> {
  const where = `cell ${cellLabel(ctx)}`;
  const file = seriesFile(ctx, where);
  const series = await loadSeries(file, where);
  const strategy = await resolveStrategy(ctx.options.strategy, series.close, where);
  let model: ModelSignal | undefined;
  if (ctx.options.strategy.type === 'model') model = await modelSignal(ctx, series, where);
  const period = resolvePeriod(series.time, ctx.options, strategy.warmup, where, model);
  const cols: BarColumns = { time: series.time, open: series.open, high: series.high, low: series.low, close: series.close };
  if (series.volume) cols.volume = series.volume;
  if (model) cols.signal = model.signal;
  return { where, series, strategy, model, period, cols };
}

export async function runBacktest(taskCtx: TaskContext<BacktestOptions>): Promise<BacktestResult> {
  const t0 = performance.now();
  const eff = effectiveContext(taskCtx);
  const ctx = eff.ctx;
  if (eff.bestParams) ctx.log.info(`using the best parameters of ${eff.from}: ${JSON.stringify(eff.bestParams)}`);
  const o = ctx.options;
  const p = await prepare(ctx);
  const prepareSeconds = (performance.now() - t0) / 1000;
  const { period, cols, strategy } = p;
  const { from, to } = period;
  const n = to - from;
  ctx.log.info(`${p.series.file}: ${p.series.rows} bars; trading ${n} bars (${period.describe})${period.inSample ? ', IN-SAMPLE (allowInSample)' : ''} with ${strategy.label}; price tick ${1 / strategy.scale}`);

  // Fills and trades go straight into the journal's pending buffer (encoded, not kept as objects).
  let journal: Journal;
  let intents: Intents;
  const hooks = {
    onFill: (f: Fill) => journal.addFill(f, intents),
    onTrade: (t: Trade) => journal.addTrade(t),
  };
  const config = {
    cash: o.cash,
    commission: o.commission,
    slippage: o.slippage,
    sizing: o.sizing,
    allowShort: o.allowShort,
    idPrefix: cellLabel(ctx),
  };
  const equity = new Float64Array(n);
  const position = new Float64Array(n);
  const journalDir = join(ctx.artifactDir, 'journal');

  const saved = await ctx.checkpoint.load<Checkpoint>();
  const usable = saved && saved.state.format === CHECKPOINT_FORMAT && saved.state.from === from && saved.state.to === to && saved.state.firstTime === cols.time[from];
  if (saved && !usable) ctx.log.warn(`checkpoint #${saved.seq} is for other bars (period or series changed); starting from the first bar`);
  let row: number;
  let engine;
  if (usable) {
    const s = saved.state;
    journal = Journal.open(journalDir, s.journal);
    intents = new Intents(s.intents);
    rebuildBars(journal.readFills(intents.list, config.idPrefix), cols.close, from, s.row - from, o.cash, equity, position);
    engine = createEngine({ config, strategy: strategy.def, params: strategy.params, info: { scale: strategy.scale }, hooks, state: s.engine });
    row = s.row;
    ctx.log.info(`resuming at bar ${row - from} of ${n} from checkpoint #${saved.seq} (${saved.type}); ${s.engine.trades} trades so far`);
  } else {
    journal = Journal.open(journalDir);
    intents = new Intents();
    engine = createEngine({ config, strategy: strategy.def, params: strategy.params, info: { scale: strategy.scale }, hooks });
    engine.warm(cols, period.warmFrom, from);
    row = from;
  }
  const resumedAt = row - from;

  const everyBars = o.checkpoint.everyBars;
  const everyMs = everyBars === undefined ? (o.checkpoint.everySeconds ?? 30) * 1000 : Infinity;
  const chunk = everyBars ?? TIME_CHUNK;
  const inflight: Promise<unknown>[] = [];
  const settled = new WeakSet<Promise<unknown>>();
  let saves = 0;
  /** Time spent taking checkpoints (journal, snapshot, encode) and waiting for the store to commit them. */
  let saveMs = 0;
  let waitMs = 0;
  let lastSaveAt = performance.now();
  let flushedRow = row;

  /** Appends the journal up to the current row and saves a checkpoint of the engine there. */
  const checkpoint = (type: 'periodic' | 'cancellation' | 'failure', state: EngineState, at: number, fills: number, tradesN: number): Promise<unknown> => {
    const t = performance.now();
    journal.flush(fills, tradesN);
    flushedRow = at;
    const ck: Checkpoint = { format: CHECKPOINT_FORMAT, row: at, from, to, firstTime: cols.time[from]!, engine: state, journal: journal.marks(), intents: [...intents.list] };
    saves++;
    const saved = ctx.checkpoint.save(ck, { step: at - from, total: n, type, metrics: { equity: state.equity, trades: state.trades } });
    saved.then(() => settled.add(saved), () => undefined);
    lastSaveAt = performance.now();
    saveMs += lastSaveAt - t;
    return saved;
  };
  const wait = async (p: Promise<unknown> | undefined) => {
    const t = performance.now();
    await p;
    waitMs += performance.now() - t;
  };

  const turnMs = everyBars !== undefined ? 2 : 10;
  let lastTurn = performance.now();
  let good = { state: engine.snapshot(), row, fills: 0, trades: 0 };
  const tLoop = performance.now();
  try {
    while (row < to) {
      const end = Math.min(to, row + chunk);
      engine.run(cols, row, end, { equity, position, offset: row - from });
      row = end;
      const ts = performance.now();
      good = { state: engine.snapshot(), row, fills: journal.pending.fills, trades: journal.pending.trades };
      saveMs += performance.now() - ts;
      ctx.progress({ step: row - from, total: n, metrics: { equity: engine.equity, trades: engine.tradeCount } });
      if (ctx.signal.aborted) {
        await Promise.all(inflight);
        await checkpoint('cancellation', good.state, row, good.fills, good.trades);
        ctx.signal.throwIfAborted();
      }
      if (row < to && (everyBars !== undefined || performance.now() - lastSaveAt >= everyMs)) {
        inflight.push(checkpoint('periodic', good.state, row, good.fills, good.trades));
        if (inflight.length >= MAX_INFLIGHT) await wait(inflight.shift());
      }
      // Let the event loop turn every few milliseconds: the store starts committing the
      // checkpoints queued so far (on its own thread, while the next chunks run), and a cancel
      // gets through.
      if (performance.now() - lastTurn >= turnMs) {
        await turn();
        lastTurn = performance.now();
        while (inflight.length > 0 && settled.has(inflight[0]!)) inflight.shift();
      }
    }
    await wait(Promise.all(inflight));
  } catch (err) {
    if (!ctx.signal.aborted && good.row > flushedRow) {
      // The last chunk boundary the engine passed cleanly: keep the work up to there.
      await Promise.allSettled(inflight);
      await checkpoint('failure', good.state, good.row, good.fills, good.trades).catch(() => undefined);
    }
    journal.close();
    throw err;
  }
  const loopSeconds = (performance.now() - tLoop) / 1000;
  journal.flush();
  const fills = journal.readFills(intents.list, config.idPrefix);
  const trades = journal.readTrades();
  journal.close();

  const result = await writeResults(ctx, p, {
    engine,
    equity,
    position,
    trades,
    fills,
    resumedAt,
    saves,
    saveMs,
    waitMs,
    loopSeconds,
    prepareSeconds,
    seconds: (performance.now() - t0) / 1000,
  });
  if (eff.bestParams) Object.assign(result, { bestParams: eff.bestParams, bestParamsFrom: eff.from });
  // One `epoch` event with the final metrics, so an hpo stage can use a backtest as its objective.
  ctx.emit('epoch', { epoch: 1, metrics: result.metrics });
  return result;
}
