/**
 * The real CLI, killed with SIGKILL at random moments of a replay (right after a bar's commit, a
 * fill, the restart's reload, the reconciliation) and started again until it finishes: the trade
 * log, the equity curve, the round trips and the metrics are byte-identical to an uninterrupted
 * replay, no order id appears twice, and the broker agrees with the ledger. The uninterrupted
 * replay also equals the backtester's engine run over the same bars, and a SIGTERM finishes the
 * current bar and exits 130. Needs `pnpm build` (the CLI runs the built plugins).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createEngine, builtinStrategy, inferScale, type Fill } from '@runner/plugin-backtest/engine';
import { runCli } from '@runner/test-helpers/cli';
import { BARS, columnsOf, count, exported, paperTask, project, startAndKill, STRATEGY } from './helpers.js';

const REPLAY = '{ type: replay, from: download, speed: max }';
const projects: string[] = [];
let reference: Record<string, string>;

beforeAll(async () => {
  const dir = await project('paper-ref', REPLAY);
  projects.push(dir);
  const r = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const t = await paperTask(dir);
  expect(t.result.bars).toBe(BARS.length);
  reference = exported(dir, 'paper-ref', t);
}, 120_000);
afterAll(() => {
  for (const p of projects) rmSync(p, { recursive: true, force: true });
});

function orderIds(tradesCsv: string): string[] {
  return tradesCsv.trim().split('\n').slice(1).map((l) => l.split(',')[2]!);
}

test('the paper replay equals the backtester engine over the same bars', () => {
  const fills: Fill[] = [];
  const cols = columnsOf(BARS);
  const engine = createEngine({
    config: { cash: 100000, commission: { pct: 0.1 }, slippage: { bps: 2 }, sizing: { units: 10 }, allowShort: false, idPrefix: 'symbol=AAA' },
    strategy: builtinStrategy('sma-cross'),
    params: STRATEGY,
    info: { scale: inferScale(cols.close) },
    hooks: { onFill: (f) => fills.push(f) },
  });
  const equity = new Float64Array(BARS.length);
  engine.run(cols, 0, BARS.length, { equity });
  const rows = reference.trades.trim().split('\n').slice(1).map((l) => l.split(','));
  expect(fills.length).toBeGreaterThan(20);
  expect(rows.map((r) => [r[2], Number(r[1]), r[4], Number(r[5]), Number(r[6]), Number(r[7])])).toEqual(
    fills.map((f) => [f.orderId, f.time, f.side, f.qty, f.price, f.commission]),
  );
  const eq = reference.equity.trim().split('\n').slice(1).map((l) => Number(l.split(',')[4]));
  expect(eq).toEqual(Array.from(equity));
});

test('SIGKILL at random moments, restarted until done: identical to the uninterrupted replay, no order id twice', async () => {
  const dir = await project('paper-crash', REPLAY);
  projects.push(dir);
  let seed = Number(process.env.PAPER_CRASH_SEED ?? Date.now() % 100000);
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  console.log(`paper crash test seed ${seed}`);
  const moments = ['bar', 'fill', 'reload', 'reconciled'] as const;
  let kills = 0;
  for (let attempt = 0; attempt < 40; attempt++) {
    const kind = kills >= 12 ? undefined : moments[Math.floor(rand() * moments.length)]!;
    const k = 1 + Math.floor(rand() * 40);
    const r = await startAndKill(dir, (out) => {
      if (kind === 'bar') return count(out, ' committed (#') >= k;
      if (kind === 'fill') return count(out, ' fill ') >= 1 + (k % 4);
      if (kind === 'reload') return out.includes('continuing after bar') || count(out, ' committed (#') >= k;
      if (kind === 'reconciled') return out.includes('reconciled with the simulated broker');
      return false;
    });
    if (r.killed) {
      kills++;
      continue;
    }
    expect(r.code, r.stdout + r.stderr).toBe(0);
    break;
  }
  expect(kills).toBeGreaterThanOrEqual(8);
  const t = await paperTask(dir);
  expect(t.state).toBe('completed');
  expect(t.attempts).toBeGreaterThan(1);
  expect(t.result.duplicatesSuppressed).toBe(0);
  expect(t.result.fillMismatches).toBe(0);
  expect(t.result.reconcile.differences).toEqual([]);
  const got = exported(dir, 'paper-crash', t);
  const ids = orderIds(got.trades);
  expect(new Set(ids).size).toBe(ids.length);
  expect(got.trades).toBe(reference.trades);
  expect(got.equity).toBe(reference.equity);
  expect(got.rounds).toBe(reference.rounds);
  expect(got.metrics).toBe(reference.metrics);
}, 600_000);

test('SIGTERM finishes the current bar, commits and exits 130; the next start continues exactly', async () => {
  const dir = await project('paper-term', REPLAY);
  projects.push(dir);
  const r = await startAndKill(dir, (out) => count(out, ' committed (#') >= 50, 'SIGTERM');
  expect(r.killed).toBe(true);
  expect(r.code, r.stdout + r.stderr).toBe(130);
  const out = r.stdout + r.stderr;
  const stopped = /stopped after bar (\S+) \((\d+) bars committed\)/.exec(out);
  expect(stopped, out).not.toBeNull();
  // The last bar it reported committed is the bar it says it stopped after: nothing half-done.
  const lastCommitted = [...out.matchAll(/bar (\S+) committed \(#(\d+)/g)].pop()!;
  expect(lastCommitted[1]).toBe(stopped![1]);
  expect(lastCommitted[2]).toBe(stopped![2]);
  const t1 = await paperTask(dir);
  expect(t1.state).toBe('pending');
  const again = await runCli(['start', 'job.yaml', '--plain', '--verbose'], { cwd: dir });
  expect(again.code, again.stdout + again.stderr).toBe(0);
  expect(again.stdout + again.stderr).toContain(`continuing after bar ${stopped![1]}: ${stopped![2]} bars`);
  const t = await paperTask(dir);
  const got = exported(dir, 'paper-term', t);
  expect(got.trades).toBe(reference.trades);
  expect(got.equity).toBe(reference.equity);
}, 300_000);
