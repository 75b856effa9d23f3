/**
 * Opens the feed the options name, positioned after the last committed bar. A replay trades the
 * bars of `period`, chosen by the backtester's own `resolvePeriod` (a model strategy: after its
 * training and validation data by default), with a model's predictions computed up front by the
 * backtester's `modelSignal` over the whole series (deterministic, so a restart recomputes the
 * same values) and handed out as each bar's `signal`.
 */
import type { TaskContext, UpstreamTask } from '@runner/core';
import { inferScale, type BarColumns } from '@runner/plugin-backtest/engine';
import { loadSeries, modelSignal, resolvePeriod, resolveStrategy, type Period } from '@runner/plugin-backtest/strategy';
import { readSeries } from '@runner/core/series';
import { configError, dataError } from '../errors.js';
import { PollFeed } from '../feed/poll.js';
import { ReplayFeed, type ReplayColumns } from '../feed/replay.js';
import type { Bar, Feed, HealthListener } from '../feed/types.js';
import type { PaperOptions } from '../schema.js';

export interface FeedHandle {
  feed: Feed;
  /** The series' symbol (replay). */
  symbol?: string;
  /** Bars in the replayed series, for the progress bar. */
  totalBars?: number;
  /** Price grid of the replayed series (for integer-tick strategies). */
  scale?: number;
  /** The replayed rows and the bars before them that warm the strategy up (a replay with a period or a model). */
  period?: Period;
  /** The replayed series' columns (with the model's signal), for warming the strategy up. */
  cols?: BarColumns;
}

export async function openFeed(ctx: TaskContext<PaperOptions>, after: number, onHealth: HealthListener, lastBar?: Bar): Promise<FeedHandle> {
  const f = ctx.options.feed;
  if (f.type === 'poll') {
    if (ctx.options.strategy.type === 'model') {
      throw configError(
        'strategy type "model" needs a replay feed: its predictions come from the trainer\'s features over a stored series',
        'Use feed: { type: replay, from: download } with period: { after: training } (the default) to paper-trade the model over bars after its training data; a poll feed takes rule or custom strategies',
      );
    }
    if (ctx.options.period) throw configError('period applies to a replay feed only; a poll feed trades the bars as they arrive', 'Remove period, or use until: { time } to stop a poll feed');
    const stallMs = f.stallMs > 0 ? f.stallMs : Math.max(5000, 5 * f.intervalMs);
    return { feed: new PollFeed({ url: f.url, intervalMs: f.intervalMs, timeoutMs: f.timeoutMs, stallMs, retry: f.retry, after, onHealth, ...(lastBar ? { lastBar } : {}) }) };
  }
  const up = ctx.upstream[f.from];
  if (!up) {
    throw configError(`feed.from is "${f.from}", but this stage does not need a stage of that name`, `Add "${f.from}" to the stage's needs, or set feed.from to the download stage it needs (${Object.keys(ctx.upstream).join(', ') || 'none'})`);
  }
  if (Array.isArray(up)) {
    throw configError(`feed.from "${f.from}" has ${up.length} tasks for this cell`, `Run the paper stage per the same matrix keys as ${f.from} (per: [symbol])`);
  }
  const file = ((up as UpstreamTask<{ file?: unknown }>).result ?? {}).file;
  if (typeof file !== 'string') throw configError(`the result of ${up.id} has no series file`, `feed.from must name a download stage with one symbol per task`);
  const o = ctx.options;
  if (o.strategy.type === 'model' || o.period) return openPeriodReplay(ctx, file, after, onHealth);
  const s = await readSeries(file);
  for (const c of ['time', 'open', 'high', 'low', 'close'] as const) {
    if (!s.columns[c]) throw dataError(file, `the series has no "${c}" column (columns: ${Object.keys(s.columns).join(', ')})`, 'The paper trader needs OHLC bars; download with a source that gives open, high, low and close');
  }
  const c = s.columns;
  const cols: ReplayColumns = { time: c.time!, open: c.open!, high: c.high!, low: c.low!, close: c.close!, ...(c.volume ? { volume: c.volume } : {}) };
  const feed = new ReplayFeed(cols, { speed: f.speed, after, onHealth });
  const out: FeedHandle = { feed, totalBars: s.rows, scale: inferScale(c.close!) };
  if (s.meta.symbol) out.symbol = s.meta.symbol;
  return out;
}

/** A replay over the backtester's period, with a model's predictions as each bar's signal. */
async function openPeriodReplay(ctx: TaskContext<PaperOptions>, file: string, after: number, onHealth: HealthListener): Promise<FeedHandle> {
  const o = ctx.options;
  const where = `task ${ctx.task.id}`;
  const series = await loadSeries(file, where);
  const strategy = await resolveStrategy(o.strategy, series.close, where);
  // The backtester's context type: the paper options carry the same strategy, period and allowInSample.
  const model = o.strategy.type === 'model' ? await modelSignal(ctx as never, series, where) : undefined;
  const period = resolvePeriod(series.time, o as never, strategy.warmup, where, model);
  const cols: BarColumns = { time: series.time, open: series.open, high: series.high, low: series.low, close: series.close };
  if (series.volume) cols.volume = series.volume;
  if (model) cols.signal = model.signal;
  if (model) ctx.log.info(`model ${model.trainTask}: ${model.predictions} predictions over ${series.rows} bars (features ${model.features.join(', ')})`);
  ctx.log.info(`${file}: replaying ${period.to - period.from} bars (${period.describe})${period.inSample ? ', IN-SAMPLE (allowInSample)' : ''}`);
  const replayCols: ReplayColumns = { time: series.time, open: series.open, high: series.high, low: series.low, close: series.close, ...(series.volume ? { volume: series.volume } : {}), ...(model ? { signal: model.signal } : {}) };
  const feed = new ReplayFeed(replayCols, { speed: o.feed.type === 'replay' ? o.feed.speed : 'max', after, from: period.from, to: period.to, onHealth });
  const out: FeedHandle = { feed, totalBars: period.to - period.from, scale: strategy.scale, period, cols };
  if (series.symbol) out.symbol = series.symbol;
  return out;
}
