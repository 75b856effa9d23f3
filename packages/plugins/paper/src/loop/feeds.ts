/** Opens the feed the options name, positioned after the last committed bar. */
import type { TaskContext, UpstreamTask } from '@runner/core';
import { inferScale } from '@runner/plugin-backtest/engine';
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
}

export async function openFeed(ctx: TaskContext<PaperOptions>, after: number, onHealth: HealthListener, lastBar?: Bar): Promise<FeedHandle> {
  const f = ctx.options.feed;
  if (f.type === 'poll') {
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
