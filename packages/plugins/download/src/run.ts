/**
 * One download task: for each series, reuse the stored file when it is complete and current,
 * otherwise fetch (resuming from the checkpoint), check, compare with what was stored, and store
 * atomically. Heavy modules (undici, arrow, csv-parse) load here, never when the plugin's
 * definition is imported.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { TaskContext } from '@runner/core';
import { writeFileAtomic } from '@runner/core';
import { readSeries } from '@runner/core/series';
import { configError, dataError, DownloadError, isDownloadError, seriesChanged } from './errors.js';
import { canonicalJson, keyOf, seriesPaths, type SeriesPaths } from './paths.js';
import type { ListResult, SeriesResult } from './result.js';
import type { DownloadOptions } from './schema.js';
import { checkSeries, medianSpacing } from './series/checks.js';
import { compareSeries, readManifest, storeSeries, verifyStored, fileSha256, type Manifest } from './series/store.js';
import { Session, type TaskState } from './session.js';
import { createSource, type SourceDriver } from './sources/index.js';
import { nominalMs, parseDuration, parseInterval } from './time.js';

export async function runDownload(ctx: TaskContext<DownloadOptions>): Promise<SeriesResult | ListResult> {
  const o = ctx.options;
  const list = o.symbols.length > 0;
  const symbols = list ? o.symbols : [singleSymbol(ctx)];
  const source = createSource(o.source);
  const key = keyOf({ type: source.type, source: source.params, checks: o.checks });
  const saved = await ctx.checkpoint.load<TaskState>();
  const session = new Session(ctx, saved?.state?.v === 1 ? saved.state : undefined);
  if (saved) {
    const done = Object.values(session.state.series).filter((s) => s.done).length;
    ctx.log.info(`resuming from checkpoint #${saved.seq} (${saved.type}): ${done} of ${symbols.length} series done`);
  }
  let finished = 0;
  let last: { step: number; total?: number; message?: string } = { step: 0, total: 1 };
  session.progressOf = () => {
    if (list) return { step: finished, total: symbols.length, message: `${finished}/${symbols.length} series` };
    const run = session.runs.get(symbols[0]!);
    if (run?.totalPages !== undefined) last = { step: run.pages, total: run.totalPages, message: `${symbols[0]} page ${run.pages}/${run.totalPages}` };
    else if (run && (run.bytesTotal !== undefined || run.bytesOnDisk > 0)) {
      last = { step: run.bytesOnDisk, total: run.bytesTotal, message: `${symbols[0]} ${mb(run.bytesOnDisk)}${run.bytesTotal ? ` of ${mb(run.bytesTotal)}` : ''}` };
    } else if (session.state.series[symbols[0]!]?.done) {
      // Done: the last figures, complete (or 1 of 1 for sources without pages or bytes).
      const total = last.total ?? last.step;
      last = { step: total || 1, total: total || 1, message: `${symbols[0]} done` };
    }
    return last;
  };

  const results: (SeriesResult | undefined)[] = new Array(symbols.length);
  const errors: { symbol: string; error: unknown }[] = [];
  let fatal: { error: unknown } | undefined;
  let next = 0;
  const worker = async () => {
    while (next < symbols.length && !session.signal.aborted) {
      const i = next++;
      const symbol = symbols[i]!;
      try {
        results[i] = await downloadSeries(session, source, key, symbol);
        finished++;
        session.report();
      } catch (err) {
        if (session.signal.aborted) return;
        if (list && isDownloadError(err)) {
          // One bad series in a list does not stop the others; the task fails at the end.
          ctx.log.error((err as Error).message);
          errors.push({ symbol, error: err });
          continue;
        }
        fatal = { error: err };
        session.stop(err);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: list ? Math.min(o.concurrency, symbols.length) : 1 }, worker));
  if (ctx.signal.aborted) {
    await session.save('cancellation').catch(() => {});
    await session.close();
    throw ctx.signal.reason;
  }
  if (fatal) {
    await session.save('failure').catch(() => {});
    await session.close();
    throw fatal.error;
  }
  if (errors.length > 0) await session.save('failure').catch(() => {});
  else await session.flushSaves();
  await session.close();
  if (errors.length > 0) {
    const first = errors[0]!.error as DownloadError;
    const retryable = errors.every((e) => (e.error as DownloadError).retryable);
    throw new DownloadError(first.code, `${errors.length} of ${symbols.length} series failed (${errors.map((e) => e.symbol).join(', ')}); first: ${first.message}`, {
      retryable,
      hint: `The other series are stored; running the task again fetches only the failed ones`,
      cause: first,
    });
  }
  if (!list) return results[0]!;
  const series = results as SeriesResult[];
  return {
    series,
    rows: series.reduce((a, r) => a + r.rows, 0),
    bytesFetched: series.reduce((a, r) => a + r.bytesFetched, 0),
    skipped: series.filter((r) => r.skipped).length,
  };
}

function singleSymbol(ctx: TaskContext<DownloadOptions>): string {
  const s = ctx.options.symbol ?? ctx.task.cell.symbol;
  if (s === undefined || String(s) === '') {
    throw configError(
      `${ctx.task.id}: no symbol to download: the matrix cell has no "symbol" key and the options set neither symbol nor symbols`,
      'Add `matrix: { symbol: [...] }` to the job spec (with `per: [symbol]` on the download stage), or set options.symbol or options.symbols',
    );
  }
  return String(s);
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** Why a stored file cannot be reused, or undefined when it can. */
async function staleReason(session: Session, source: SourceDriver, key: string, symbol: string, paths: SeriesPaths, m: Manifest | undefined): Promise<string | undefined> {
  const o = session.ctx.options;
  if (!m) return existsSync(paths.file) ? 'its manifest is missing' : 'not downloaded yet';
  if (m.key !== key) return 'it came from other source options';
  if (o.refresh) return 'refresh is set';
  const age = Date.now() - Date.parse(m.retrievedAt);
  if (!(age < parseDuration(o.maxAge))) return `it is older than maxAge (${o.maxAge})`;
  if (!(await verifyStored(paths.file, m))) return 'the file does not match its checksum (damaged or edited)';
  if (source.inputSha256 && (await source.inputSha256(symbol)) !== m.inputSha256) return 'the input file changed';
  return undefined;
}

async function downloadSeries(session: Session, source: SourceDriver, key: string, symbol: string): Promise<SeriesResult> {
  const { ctx } = session;
  const o = ctx.options;
  const paths = seriesPaths(ctx.dataDir, source.type, source.interval, key, symbol);

  const prior = session.state.series[symbol]?.done;
  if (prior && (await fileSha256(prior.file)) === prior.sha256) return prior;

  const manifest = await readManifest(paths.manifest);
  const why = await staleReason(session, source, key, symbol, paths, manifest);
  if (why === undefined) {
    const result = resultFromManifest(manifest!, paths, true);
    ctx.log.info(`${symbol}: ${paths.file} is complete and current; skipped`);
    await markDone(session, symbol, result);
    return result;
  }
  if (manifest) ctx.log.info(`${symbol}: downloading again: ${why}`);

  const run = session.series(symbol, key);
  const fetched = await source.fetch(run, symbol);
  if (fetched.frame.time.length === 0) {
    throw dataError(symbol, fetched.url ?? source.type, 'the source returned no rows', 'Check the symbol and the date range (start/end)');
  }
  const iv = source.interval ? parseInterval(source.interval) : undefined;
  const stepMs = iv ? nominalMs(iv) : medianSpacing(fetched.frame.time);
  const calendar = o.checks.calendar === 'auto' ? source.defaultCalendar(stepMs) : o.checks.calendar;
  const checked = checkSeries(symbol, fetched.frame, { sort: o.checks.sort, duplicates: o.checks.duplicates, calendar, interval: iv });
  if (checked.sorted) ctx.log.info(`${symbol}: rows were not in time order; sorted them (checks.sort)`);
  if (checked.dropped > 0) ctx.log.warn(`${symbol}: dropped ${checked.dropped} rows with a repeated time (checks.duplicates: ${o.checks.duplicates})`);
  if (checked.gaps > 0) {
    ctx.log.info(`${symbol}: ${checked.gaps} gap${checked.gaps === 1 ? '' : 's'} (${calendar} calendar), e.g. ${checked.gapSamples.slice(0, 3).join('; ')}`);
  }

  let changed = run.state.changedDuringDownload;
  if (manifest && existsSync(paths.file)) {
    let old: Awaited<ReturnType<typeof readSeries>> | undefined;
    try {
      old = await readSeries(paths.file);
    } catch {
      old = undefined; // a damaged file is simply replaced
    }
    const change = old && old.columns.time ? compareSeries({ time: old.columns.time as Float64Array, columns: old.columns }, checked.frame) : undefined;
    if (change) {
      if (o.onChange === 'fail') throw seriesChanged(symbol, paths.file, change.what);
      changed = true;
      ctx.log.warn(`${symbol}: the source revised data already stored in ${paths.file}: ${change.what}; replacing it (onChange: warn)`);
      ctx.emit('download:changed', { symbol, file: paths.file, rows: change.rows, first: change.first });
    }
  }

  if (!existsSync(paths.sourceJson)) {
    await writeFileAtomic(paths.sourceJson, canonicalJson({ type: source.type, key, source: source.params, checks: o.checks }) + '\n');
  }
  const m = await storeSeries(paths.file, paths.manifest, checked.frame, {
    symbol,
    source: source.type,
    key,
    params: source.params,
    interval: source.interval,
    gaps: checked.gaps,
    url: fetched.url,
    etag: fetched.etag,
    inputSha256: fetched.inputSha256,
  });
  await Promise.all([rm(run.partialPath('rows'), { force: true }), rm(run.partialPath('download'), { force: true })]);
  const st = run.state;
  const result: SeriesResult = {
    ...resultFromManifest(m, paths, false),
    bytesFetched: st.bytesFetched,
    pages: run.pages,
    requests: st.requests,
    retries: st.retries,
    restarts: st.restarts,
    changed,
  };
  if (st.restarts > 0 || st.retries > 0) ctx.log.info(`${symbol}: ${st.retries} retries, ${st.restarts} restarts`);
  ctx.emit('download:series', { symbol, file: result.file, rows: result.rows, bytes: result.bytesFetched, skipped: false, changed });
  await markDone(session, symbol, result);
  return result;
}

async function markDone(session: Session, symbol: string, result: SeriesResult): Promise<void> {
  session.retire(symbol);
  const prev = session.state.series[symbol];
  session.state.series[symbol] = { ...(prev ?? { now: Date.now(), bytesFetched: 0, requests: 0, retries: 0, restarts: 0, changedDuringDownload: false }), done: result };
  delete session.state.series[symbol]!.fetch;
  // Not waited for: the stored file and its manifest already say the series is done, and a
  // resumed task finds them; this save only spares it the checksum.
  session.saveSoon();
}

function resultFromManifest(m: Manifest, paths: SeriesPaths, skipped: boolean): SeriesResult {
  const r: SeriesResult = {
    symbol: m.symbol,
    source: m.source as SeriesResult['source'],
    file: paths.file,
    manifest: paths.manifest,
    rows: m.rows,
    start: m.start,
    end: m.end,
    sha256: m.sha256,
    columns: m.columns,
    gaps: m.gaps,
    bytesFetched: 0,
    skipped,
    retrievedAt: m.retrievedAt,
    pages: 0,
    requests: 0,
    retries: 0,
    restarts: 0,
    changed: false,
  };
  if (m.interval) r.interval = m.interval;
  if (m.url) r.url = m.url;
  return r;
}
