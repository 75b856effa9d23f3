/**
 * The quick start as a user runs it — download → HPO → train → backtest → paper — at full size:
 * 1. the honest demonstration: on the symbols with a planted AR(1) component the trained models
 *    beat buy-and-hold on bars they never saw; on the random-walk control they do not beyond
 *    noise; the paper replay of the same bars books what the backtest booked; a second start
 *    does nothing;
 * 2. killed with SIGKILL in the middle of training and run again: every artifact, result, study
 *    and count equals the uninterrupted run's, byte for byte.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
// @ts-expect-error: plain ESM module shared with bench/chaos
import { diffSnapshots, runUntilDone, snapshotRun } from './chaos/harness.mjs';
import { cliJson, REPO, runCli } from '@runner/test-helpers/cli';

const SPEC = readFileSync(join(REPO, 'configs/quickstart.yaml'), 'utf8');

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'runner-quickstart-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'qs', private: true }));
  writeFileSync(join(dir, 'job.yaml'), SPEC);
  return dir;
}

interface Row {
  id: string;
  stage: string;
  cell: Record<string, string | number>;
  state: string;
  result: Record<string, any> | null;
}

// The control's strategy Sharpe over ~1,400 held-out hourly bars has a standard error of about
// sqrt(8760 / 1400) ≈ 2.5 (annualised): within two of them is "not beyond noise".
const NOISE_SHARPE = 5;

describe('quick start', () => {
  let clean = '';

  test('trained models beat buy-and-hold on unseen bars of the learnable symbols, not on the control; paper books what the backtest booked', async () => {
    clean = project();
    const first = await runCli(['start', 'job.yaml'], { cwd: clean });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain('quickstart: 27/27 completed');
    const rows = await cliJson<Row[]>(['tasks', 'job.yaml'], { cwd: clean });
    const backtests = rows.filter((r) => r.stage === 'backtest');
    expect(backtests).toHaveLength(6);
    for (const b of backtests) {
      const m = b.result!.metrics as { totalReturn: number; buyHoldReturn: number; sharpe: number };
      expect(b.result!.period.inSample).toBe(false);
      if (b.cell.symbol === 'NVDA') {
        expect(Math.abs(m.sharpe), b.id).toBeLessThan(NOISE_SHARPE);
      } else {
        expect(m.sharpe, b.id).toBeGreaterThan(1);
        expect(m.totalReturn - m.buyHoldReturn, b.id).toBeGreaterThan(0.2);
      }
    }
    const signal = backtests.filter((b) => b.cell.symbol !== 'NVDA').map((b) => b.result!.metrics.sharpe as number);
    expect(signal.reduce((a, b) => a + b, 0) / signal.length).toBeGreaterThan(NOISE_SHARPE);
    // The paper trader replays the same held-out bars with the same model: same engine, same book.
    for (const p of rows.filter((r) => r.stage === 'paper')) {
      const b = backtests.find((x) => x.cell.symbol === p.cell.symbol && x.cell.horizon === p.cell.horizon)!;
      expect(p.result!.equity, p.id).toBeCloseTo(b.result!.metrics.endEquity as number, 6);
    }
    // The report prints the summary per cell and writes the HTML file.
    const report = await runCli(['report', 'job.yaml'], { cwd: clean });
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/symbol=NVDA horizon=1 .*sharpe/);
    expect(report.stdout).toContain('report.html');
    // A second start does nothing and says so.
    const again = await runCli(['start', 'job.yaml'], { cwd: clean });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/27 tasks \(27 completed, 0 to run\)/);
  }, 600_000);

  test('a SIGKILL mid-training, then the same command: byte-identical to the uninterrupted run', async () => {
    const expected = await snapshotRun(clean, 'job.yaml', 'quickstart');
    const dir = project();
    let n = 0;
    const done = await runUntilDone({
      cwd: dir,
      args: ['job.yaml', '-v'],
      // Kill right after the third checkpoint of a final training (not a trial's), then finish.
      schedule: (i: number) => (i === 0 ? { kind: 'line', match: /checkpoint.*train\/symbol=[A-Z]+\/horizon=\d+\/cycle=1\b(?!\/)/, nth: 3 } : null),
      onRun: () => n++,
    });
    expect(done.kills).toBe(1);
    expect(n).toBe(2);
    expect(done.output).toMatch(/left running by a runner that is gone/);
    const got = await snapshotRun(dir, 'job.yaml', 'quickstart');
    expect(diffSnapshots(expected, got)).toEqual([]);
  }, 600_000);
});
