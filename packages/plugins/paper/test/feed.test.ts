/**
 * The poll feed against the fault-injecting feed server on 127.0.0.1: whatever the server does
 * (5xx, dropped connections, hung requests, duplicates, late and revised bars, stalls), the bars
 * handed out are exactly the pushed bars, once each, in order; the faults show in the health.
 */
import { afterEach, expect, test } from 'vitest';
import { PollFeed } from '../src/feed/poll.js';
import { ReplayFeed } from '../src/feed/replay.js';
import { BarGuard } from '../src/feed/guard.js';
import type { Bar, FeedHealth } from '../src/feed/types.js';
import { FeedServer, syntheticBars } from '../src/testing/feed-server.js';

let server: FeedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function poll(url: string, after = -Infinity, events: string[] = [], lastBar?: Bar) {
  return new PollFeed({ url, intervalMs: 20, timeoutMs: 300, stallMs: 400, retry: { baseMs: 5, maxMs: 40 }, after, onHealth: (_h, e) => e && events.push(e.kind), ...(lastBar ? { lastBar } : {}) });
}

async function take(feed: PollFeed, n: number): Promise<Bar[]> {
  const out: Bar[] = [];
  const signal = new AbortController().signal;
  while (out.length < n) out.push((await feed.next(signal))!);
  return out;
}

test('every fault kind: the bars come out exactly once, in order, and the faults are counted', async () => {
  server = await FeedServer.start();
  const bars = syntheticBars(60);
  server.batch = 5;
  server.push(...bars.slice(0, 20));
  server.fault({ type: 'status', status: 500 }, 2);
  server.fault({ type: 'drop' });
  server.fault({ type: 'hang', ms: 2000 });
  const events: string[] = [];
  const feed = poll(server.url, -Infinity, events);
  const first = await take(feed, 10);
  expect(first).toEqual(bars.slice(0, 10));
  let h: FeedHealth = feed.health();
  expect(h.errors).toBe(4);
  expect(h.retries).toBe(4);
  expect(h.lastError).toMatch(/timed out|HTTP 500|not complete JSON|terminated|ECONNRESET|socket/i);

  server.fault({ type: 'duplicate' });
  server.fault({ type: 'out-of-order' });
  server.fault({ type: 'revise' });
  server.push(...bars.slice(20));
  const rest = await take(feed, 50);
  expect(rest).toEqual(bars.slice(10));
  h = feed.health();
  expect(h.duplicates).toBe(3);
  // the late bar and the revised bar
  expect(h.rejected).toBe(2);
  expect(events).toContain('rejected');
  expect(events).toContain('duplicate');
  // Every request after the first asked only for bars after the last one handed out.
  const sinces = server.requests.map((r) => r.since).filter((s) => s !== undefined) as number[];
  for (let i = 1; i < sinces.length; i++) expect(sinces[i]).toBeGreaterThanOrEqual(sinces[i - 1]!);
});

test('a stall is reported while no bar arrives, and cleared by the next bar', async () => {
  server = await FeedServer.start();
  const bars = syntheticBars(3);
  server.push(bars[0]!);
  const events: string[] = [];
  const feed = poll(server.url, -Infinity, events);
  await take(feed, 1);
  const ctl = new AbortController();
  const pending = feed.next(ctl.signal);
  await server.waitFor(() => events.includes('stalled'));
  expect(feed.health().stalled).toBe(true);
  server.push(bars[1]!);
  expect(await pending).toEqual(bars[1]);
  expect(feed.health().stalled).toBe(false);
  expect(events).toContain('recovered');
});

test('a restarted feed asks for bars after the last committed one and drops the resent bar', async () => {
  server = await FeedServer.start();
  const bars = syntheticBars(10);
  server.push(...bars);
  server.fault({ type: 'revise' });
  const feed = poll(server.url, bars[4]!.time, [], bars[4]);
  expect(await take(feed, 5)).toEqual(bars.slice(5));
  expect(server.requests[0]!.since).toBe(bars[4]!.time);
  // The committed bar came again with other values: a revision, rejected and counted.
  expect(feed.health().rejected).toBe(1);
  // Without the committed bar's values: a resend of that bar counts as a duplicate, older resent
  // bars as late (rejected); none is applied.
  server.fault({ type: 'duplicate' });
  const blind = poll(server.url, bars[7]!.time);
  expect(await take(blind, 2)).toEqual(bars.slice(8));
  expect(blind.health().duplicates).toBe(1);
  expect(blind.health().rejected).toBe(2);
});

test('a 404 on the first request is a configuration error naming the URL', async () => {
  server = await FeedServer.start();
  const feed = poll(server.url.replace('/bars', '/nope'));
  await expect(feed.next(new AbortController().signal)).rejects.toMatchObject({ code: 'PAPER_FEED', message: expect.stringContaining('/nope') });
});

test('a stop while waiting rejects with the signal reason and loses nothing', async () => {
  server = await FeedServer.start();
  const feed = poll(server.url);
  const ctl = new AbortController();
  const p = feed.next(ctl.signal);
  await server.waitFor((r) => r.length >= 2);
  ctl.abort(new Error('stop'));
  await expect(p).rejects.toThrow('stop');
});

test('replay starts after the last committed bar and paces by speed', async () => {
  const bars = syntheticBars(20, { stepMs: 1000 });
  const cols = {
    time: Float64Array.from(bars, (b) => b.time),
    open: Float64Array.from(bars, (b) => b.open),
    high: Float64Array.from(bars, (b) => b.high),
    low: Float64Array.from(bars, (b) => b.low),
    close: Float64Array.from(bars, (b) => b.close),
    volume: Float64Array.from(bars, (b) => b.volume),
  };
  const feed = new ReplayFeed(cols, { speed: 100, after: bars[9]!.time });
  const signal = new AbortController().signal;
  const t0 = Date.now();
  const got: Bar[] = [];
  for (let b = await feed.next(signal); b; b = await feed.next(signal)) got.push(b);
  expect(got).toEqual(bars.slice(10));
  // 9 gaps of 1 s at 100× real time: at least 90 ms.
  expect(Date.now() - t0).toBeGreaterThanOrEqual(85);
  expect(feed.health().state).toBe('ended');
});

test('the guard: duplicates dropped, late and revised bars rejected, invalid bars rejected', () => {
  const [a, b, c] = syntheticBars(3);
  const g = new BarGuard(-Infinity);
  expect(g.check(a!)).toBe('accept');
  expect(g.check(b!)).toBe('accept');
  expect(g.check(b!)).toBe('duplicate');
  expect(g.check(a!)).toBe('duplicate');
  expect(g.check({ ...a!, close: a!.close + 1, high: a!.high + 1 })).toBe('out-of-order');
  expect(g.check({ ...c!, close: NaN })).toBe('invalid');
  expect(g.check({ ...c!, low: c!.high + 1 })).toBe('invalid');
  expect(g.check(c!)).toBe('accept');
});
