/**
 * A live trader on the fault-injecting feed server, through the real CLI: the feed stalls (and
 * `runner status` says so), answers 500, drops connections mid-response, hangs, resends and sends
 * late and revised bars, and the runner is SIGKILLed once mid-stream. The trades and equity are
 * exactly those of a replay of the same bars: nothing lost, nothing invented. Needs `pnpm build`.
 */
import { rmSync } from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import { cliJson, runCli, spawnCli, waitFor } from '@runner/test-helpers/cli';
import { FeedServer } from '../src/testing/feed-server.js';
import { BARS, count, exported, paperTask, project, startAndKill } from './helpers.js';

const projects: string[] = [];
let server: FeedServer | undefined;
afterAll(async () => {
  await server?.close();
  for (const p of projects) rmSync(p, { recursive: true, force: true });
});

async function paperStatus(cwd: string): Promise<{ message: string | null; metrics: Record<string, number> | null } | undefined> {
  const s = await cliJson<{ running: { stage: string; progress: { message: string | null; metrics: Record<string, number> | null } }[] }>(['status', 'job.yaml'], { cwd });
  return s.running.find((t) => t.stage === 'paper')?.progress;
}

test('a faulty live feed and a kill: the same trades as a replay of the same bars; a stall shows in status', async () => {
  server = await FeedServer.start();
  server.batch = 40;
  const feed = `{ type: poll, url: "${server.url}", intervalMs: 20, timeoutMs: 500, stallMs: 800, retry: { baseMs: 10, maxMs: 100 } }`;
  const dir = await project('paper-poll', feed, BARS, '      until: { bars: 800 }\n');
  projects.push(dir);
  const replayDir = await project('paper-poll-ref', '{ type: replay, from: download, speed: max }');
  projects.push(replayDir);
  const ref = await runCli(['start', 'job.yaml', '--plain'], { cwd: replayDir });
  expect(ref.code, ref.stderr).toBe(0);
  const reference = exported(replayDir, 'paper-poll-ref', await paperTask(replayDir));

  // Part 1: 300 bars with faults, then a kill right after a commit.
  server.push(...BARS.slice(0, 300));
  server.fault({ type: 'status', status: 500 }, 2);
  server.fault({ type: 'drop' });
  server.fault({ type: 'status', status: 502 });
  server.fault({ type: 'duplicate' });
  server.fault({ type: 'out-of-order' }, 2);
  // Killed inside the retries (after the third failed request), then again right after a commit.
  const inRetry = await startAndKill(dir, (out) => count(out, 'feed: GET') >= 3);
  expect(inRetry.killed).toBe(true);
  const first = await startAndKill(dir, (out) => count(out, ' committed (#') >= 150);
  expect(first.killed).toBe(true);

  // Part 2: restart; it catches up to bar 300, then the feed stalls and status says so.
  const run = spawnCli(['start', 'job.yaml', '--plain', '--verbose'], { cwd: dir });
  await waitFor(() => run.output().includes('feed stalled'), 60_000, 'the stall warning');
  await waitFor(async () => ((await paperStatus(dir))?.metrics?.feedStalled ?? 0) === 1, 30_000, 'status to show the stall');
  const st = (await paperStatus(dir))!;
  expect(st.message).toContain('STALLED');
  expect(st.message).toContain(`last bar ${new Date(BARS[299]!.time).toISOString().replace('.000Z', 'Z')}`);
  expect(st.metrics!.lastBarAgeS).toBeGreaterThan(0.5);

  // Part 3: the rest, through more faults: a hung request, a revision of a processed bar.
  server.fault({ type: 'hang', ms: 3000 });
  server.fault({ type: 'revise' });
  server.fault({ type: 'status', status: 503 });
  server.push(...BARS.slice(300));
  const done = await run.done;
  expect(done.code, done.stdout + done.stderr).toBe(0);
  expect(done.stdout + done.stderr).toContain('feed recovered');
  const t = await paperTask(dir);
  expect(t.result.bars).toBe(800);
  expect(t.result.stoppedBy).toBe('until');
  expect(t.result.feed.errors).toBeGreaterThanOrEqual(2);
  expect(t.result.feed.rejected).toBeGreaterThanOrEqual(1);
  expect(t.result.duplicatesSuppressed).toBe(0);
  const got = exported(dir, 'paper-poll', t);
  expect(got.trades).toBe(reference.trades);
  expect(got.equity).toBe(reference.equity);
}, 300_000);
