/**
 * The real CLI: a backtest SIGKILLed right after checkpoint lines, twice, then run to the end,
 * gives the same fills, journal and equity, byte for byte, as an uninterrupted run; `runner
 * status` and `runner tasks` show the headline; bad input exits 2.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, runCli, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';

const spec = (extra = '') => `name: bt
matrix: { symbol: [AAA] }
stages:
  - id: download
    plugin: download
    per: [symbol]
    options:
      source: { type: synthetic, interval: 1m, bars: 600000, drift: 0, volatility: 0.0005, price: 100 }
  - id: backtest
    plugin: backtest
    per: [symbol]
    needs: [download]
    options:
      strategy: { type: sma-cross, fast: 10, slow: 50 }
      commission: { perUnit: 0.1 }
      slippage: { bps: 1 }
      sizing: { units: 10 }
      checkpoint: { everyBars: 1000 }
${extra}`;

const ART = 'runs/bt/artifacts/backtest/symbol=AAA/cycle=1';
const FILES = ['fills.csv', 'trades.csv', 'equity.csv', 'equity.arrow', 'trades.arrow', 'metrics.json', 'journal/fills.f64', 'journal/trades.f64'];
const digest = (dir: string) => Object.fromEntries(FILES.map((f) => [f, createHash('sha256').update(readFileSync(join(dir, ART, f))).digest('hex')]));

describe('backtest through the CLI', () => {
  test('SIGKILL right after checkpoints, rerun: identical fills, journal and equity', async () => {
    const clean = tempProject({ 'job.yaml': spec() });
    const r0 = await runCli(['start', 'job.yaml'], { cwd: clean });
    expect(r0.code, r0.stderr).toBe(0);

    const dir = tempProject({ 'job.yaml': spec() });
    // First kill: right after the backtest's 3rd checkpoint line; second: after the next attempt's 3rd.
    for (const seq of [3, 3]) {
      const r = spawnCli(['start', 'job.yaml', '--verbose'], { cwd: dir });
      const line = new RegExp(`checkpoint backtest/symbol=AAA/cycle=1 #(\\d+) periodic`, 'g');
      await waitFor(() => [...r.output().matchAll(line)].length >= seq, 120_000, `checkpoint line ${seq}`);
      r.child.kill('SIGKILL');
      const res = await r.done;
      expect(res.signal).toBe('SIGKILL');
    }
    const tasks1 = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    const bt = tasks1.find((t) => t.stage === 'backtest');
    expect(bt.state).not.toBe('completed');
    expect(bt.lastCheckpoint.step).toBeGreaterThan(0);

    const last = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(last.code, last.stderr).toBe(0);
    const tasks = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    const done = tasks.find((t) => t.stage === 'backtest');
    expect(done.state).toBe('completed');
    expect(done.result.resumedAtBar).toBeGreaterThan(0);
    expect(done.attempts).toBe(3);
    expect(digest(dir)).toEqual(digest(clean));

    const status = await runCli(['status', 'job.yaml'], { cwd: dir });
    expect(status.stdout).toContain('results');
    expect(status.stdout).toMatch(/backtest\/symbol=AAA\/cycle=1\s+return [+-]\d+\.\d+% \(b&h [+-]\d+\.\d+%\) sharpe -?\d+\.\d+ maxDD \d+\.\d+% trades \d+/);
    const list = await runCli(['tasks', 'job.yaml'], { cwd: dir });
    expect(list.stdout).toContain(done.result.headline);
    // Five CLI runs over 600k bars: a minute when the machine is busy, so a generous ceiling.
  }, 300_000);

  test('bad input exits 2: an empty period at run time, an unknown strategy at load time', async () => {
    const dir = tempProject({ 'job.yaml': spec('      period: { start: 2031-01-01 }\n').replace('bars: 600000', 'bars: 2000') });
    const r = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain('cell symbol=AAA: the period 2031-01-01 to end has no bars');
    const tasks = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    const failed = tasks.find((t) => t.stage === 'backtest');
    expect(failed.state).toBe('failed');
    expect(failed.error.message).toContain('has no bars');
    expect(existsSync(join(dir, ART, 'metrics.json'))).toBe(false);

    const bad = tempProject({ 'job.yaml': spec().replace('type: sma-cross', 'type: sma-crossover') });
    const b = await runCli(['start', 'job.yaml'], { cwd: bad });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/job\.yaml:\d+:\d+/);
    expect(b.stderr).toContain('strategy.type');
  });
});
