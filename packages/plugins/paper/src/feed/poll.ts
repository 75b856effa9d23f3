/**
 * A live feed over HTTP: every `intervalMs` it asks `GET <url>?since=<last bar time>` for new bars
 * (a JSON array of `{ time, open, high, low, close, volume }`, or `{ bars: [...] }`; `time` in
 * epoch ms or ISO 8601). Failed requests (network errors, timeouts, 5xx, 429, a body cut off
 * mid-response) are retried with full-jitter backoff and counted; duplicates are dropped,
 * out-of-order bars rejected and reported; no new bar for `stallMs` marks the feed stalled until
 * one arrives. A 4xx on the very first request is a configuration error (wrong URL) and stops the
 * task; after a first success every failure is retried, since a trader running for days must
 * outlive a server's bad hour.
 */
import { feedConfig } from '../errors.js';
import { BarGuard } from './guard.js';
import { backoffMs, sleep } from './sleep.js';
import type { Bar, Feed, FeedHealth, HealthListener } from './types.js';

export interface PollOptions {
  url: string;
  intervalMs: number;
  timeoutMs: number;
  stallMs: number;
  retry: { baseMs: number; maxMs: number };
  /** Time of the last processed bar; bars at or before it are not asked for. */
  after: number;
  /** The last processed bar itself, when known (tells a resend from a revision after a restart). */
  lastBar?: Bar;
  onHealth?: HealthListener;
}

class PollError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export class PollFeed implements Feed {
  private readonly guard: BarGuard;
  private readonly queue: Bar[] = [];
  private lastPollAt = 0;
  private failuresInRow = 0;
  private succeeded = false;
  private readonly startedAt = Date.now();
  private readonly h: FeedHealth = { type: 'poll', state: 'starting', errors: 0, retries: 0, duplicates: 0, rejected: 0, stalled: false };

  constructor(private readonly o: PollOptions) {
    this.guard = new BarGuard(o.after, o.lastBar);
  }

  async next(signal: AbortSignal): Promise<Bar | undefined> {
    for (;;) {
      while (this.queue.length > 0) {
        const bar = this.queue.shift()!;
        const verdict = this.guard.check(bar);
        if (verdict === 'accept') {
          this.h.lastBarTime = bar.time;
          this.h.lastBarAt = Date.now();
          this.h.state = 'ok';
          if (this.h.stalled) {
            this.h.stalled = false;
            this.emit('recovered', `feed recovered: bar ${new Date(bar.time).toISOString()} arrived`);
          }
          return bar;
        }
        if (verdict === 'duplicate') this.h.duplicates++;
        else this.h.rejected++;
        this.h.lastError = this.guard.describe(bar, verdict);
        this.emit(verdict === 'duplicate' ? 'duplicate' : 'rejected', this.h.lastError);
      }
      const wait = this.lastPollAt + this.o.intervalMs - Date.now();
      if (wait > 0) {
        if (this.h.state === 'ok' || this.h.state === 'starting') this.h.state = 'waiting';
        await sleep(wait, signal);
      }
      this.checkStall();
      this.lastPollAt = Date.now();
      try {
        const bars = await this.request(signal);
        this.failuresInRow = 0;
        this.succeeded = true;
        if (this.h.state === 'retrying' || this.h.state === 'starting') this.h.state = 'waiting';
        this.queue.push(...bars);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        const e = err as PollError;
        if (!this.succeeded && e.status !== undefined && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429) {
          throw feedConfig(this.o.url, `${e.message} on the first request`, 'Check feed.url: the server refused it. Other errors (5xx, timeouts, dropped connections) are retried');
        }
        this.h.errors++;
        this.h.lastError = e.message;
        this.emit('error', e.message);
        this.failuresInRow++;
        const delay = backoffMs(this.failuresInRow, this.o.retry.baseMs, this.o.retry.maxMs);
        this.h.state = 'retrying';
        this.h.retries++;
        this.emit('retry', `retry ${this.failuresInRow} in ${delay} ms after: ${e.message}`);
        await sleep(delay, signal);
        this.lastPollAt = 0;
      }
    }
  }

  health(): FeedHealth {
    this.checkStall();
    return { ...this.h };
  }

  async close(): Promise<void> {}

  private checkStall(): void {
    const since = this.h.lastBarAt ?? this.startedAt;
    if (!this.h.stalled && Date.now() - since > this.o.stallMs) {
      this.h.stalled = true;
      this.h.state = this.h.state === 'retrying' ? 'retrying' : 'stalled';
      this.emit('stalled', `feed stalled: no new bar for ${Math.round((Date.now() - since) / 1000)} s (stallMs ${this.o.stallMs})`);
    }
  }

  private emit(kind: 'error' | 'retry' | 'duplicate' | 'rejected' | 'stalled' | 'recovered', message: string): void {
    this.o.onHealth?.({ ...this.h }, { kind, message });
  }

  private async request(signal: AbortSignal): Promise<Bar[]> {
    const url = new URL(this.o.url);
    if (Number.isFinite(this.guard.lastTime)) url.searchParams.set('since', String(this.guard.lastTime));
    const where = `${url.origin}${url.pathname}`;
    let text: string;
    let status: number;
    try {
      const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(this.o.timeoutMs)]), headers: { accept: 'application/json' } });
      status = res.status;
      text = await res.text();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = (err as Error).name === 'TimeoutError' ? `timed out after ${this.o.timeoutMs} ms` : (cause?.code ?? cause?.message ?? (err as Error).message);
      throw new PollError(`GET ${where}: ${why}`);
    }
    if (status < 200 || status >= 300) throw new PollError(`GET ${where}: HTTP ${status}`, status);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new PollError(`GET ${where}: the body is not complete JSON (${text.length} bytes; cut off mid-response?)`);
    }
    const list = Array.isArray(body) ? body : (body as { bars?: unknown })?.bars;
    if (!Array.isArray(list)) throw new PollError(`GET ${where}: expected a JSON array of bars or { "bars": [...] }`);
    return list.map(toBar);
  }
}

function toBar(x: unknown): Bar {
  const o = (x ?? {}) as Record<string, unknown>;
  const time = typeof o.time === 'string' ? Date.parse(o.time) : Number(o.time);
  return { time, open: Number(o.open), high: Number(o.high), low: Number(o.low), close: Number(o.close), volume: o.volume === undefined ? 0 : Number(o.volume) };
}
