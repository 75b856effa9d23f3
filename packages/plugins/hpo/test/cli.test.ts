/** `runner study`: the trial table, best parameters, history sparkline, and CSV/JSONL/JSON exports. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { cliJson, runCli, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';
import { runSpec, spec } from './helpers.js';

const SPACE = { x: { float: [-1, 1] }, y: { float: [-1, 1] }, act: { choice: ['relu', 'tanh'] } };
let dir: string;

beforeAll(async () => {
  dir = tempProject({ 'job.yaml': spec({ matrix: { symbol: ['A', 'B'] }, hpo: { trials: 6, sampler: { type: 'tpe', seed: 5 }, pruner: { type: 'median', startupTrials: 2 }, space: SPACE } }) });
  expect((await runSpec(dir)).exitCode).toBe(0);
});

describe('runner study', () => {
  test('without a pattern: one line per study with progress, best value and a sparkline', async () => {
    const r = await runCli(['study', 'job.yaml'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^study\s+task\s+finished\s+pruned\/failed\/running\s+best\s+best so far$/);
    expect(lines[1]).toMatch(/^hpo\/symbol=A\/cycle=1\s+completed\s+6\/6\s+\d+\/0\/0\s+[\d.]+ \(#\d+\)\s+[▁▂▃▄▅▆▇█]{1,6}$/);
    expect(lines[2]).toMatch(/^hpo\/symbol=B\/cycle=1\s+completed\s+6\/6/);
  });

  test('one study (a cell is enough): settings, counts, best params, history and the trial table', async () => {
    const r = await runCli(['study', 'job.yaml', 'symbol=A', '--sort', 'value', '--limit', '3'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    const json = await cliJson<{ studies: { best: { number: number; value: number; params: Record<string, unknown> }; counts: Record<string, number> }[] }>(['study', 'job.yaml', 'symbol=A'], { cwd: dir });
    const best = json.studies[0]!.best;
    expect(out).toContain('study hpo/symbol=A/cycle=1  (task completed)');
    expect(out).toContain('minimize val_loss · sampler tpe (seed 5) · pruner median');
    expect(out).toMatch(/trials {4}6\/6 finished: \d+ complete, \d+ pruned, 0 failed, 0 running, 0 waiting/);
    expect(out).toContain(`best      ${Number(best.value.toPrecision(5))} (trial ${best.number})`);
    expect(out).toMatch(/params {4}x=\S+ {2}y=\S+ {2}act=(relu|tanh)/);
    expect(out).toMatch(/history {3}[▁▂▃▄▅▆▇█]+ {2}best so far/);
    const table = out.slice(out.indexOf('\n#'));
    expect(table.split('\n')[1]).toMatch(/^#\s+state\s+value\s+x\s+y\s+act\s+step\s+time\s+note$/);
    expect(table.split('\n')[2]).toMatch(new RegExp(`^${best.number}\\s+COMPLETE\\s+${Number(best.value.toPrecision(5))}`));
    expect(out).toContain('(best 3 of 6 trials; --limit 0 shows all, --sort value ranks them, --format csv exports them)');
  });

  test('exports trials as CSV (to a file), JSONL and JSON', async () => {
    const r = await runCli(['study', 'job.yaml', 'hpo/*', '--format', 'csv', '--out', 'trials.csv'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^wrote 12 trials of 2 studies to trials\.csv \(\d+ bytes\)\n$/);
    const csv = readFileSync(join(dir, 'trials.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('study,number,state,value,params_x,params_y,params_act,last_step,attempts,source,started_at,finished_at,duration_ms,error');
    expect(csv.length).toBe(13);
    expect(csv[1]).toMatch(/^hpo\/symbol=A\/cycle=1,0,(COMPLETE|PRUNED),[\d.e-]+,-?[\d.e-]+,-?[\d.e-]+,(relu|tanh),\d,1,sampler,\d{4}-/);

    const jsonl = await runCli(['study', 'job.yaml', 'symbol=B', '--format', 'jsonl'], { cwd: dir });
    const rows = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.length).toBe(6);
    expect(rows[0]).toMatchObject({ study: 'hpo/symbol=B/cycle=1', number: 0, attempts: 1, source: 'sampler' });
    expect(rows[0].intermediate.length).toBeGreaterThan(0);

    const json = await cliJson<{ studies: { name: string; key: string; target: number; trials: unknown[]; space: object }[] }>(['study', 'job.yaml'], { cwd: dir });
    expect(json.studies.map((s) => [s.name, s.key, s.target, s.trials.length])).toEqual([
      ['hpo/symbol=A/cycle=1', 'hpo/symbol=A/cycle=1', 6, 6],
      ['hpo/symbol=B/cycle=1', 'hpo/symbol=B/cycle=1', 6, 6],
    ]);
  });

  test('names what matched nothing, and specs without an hpo stage', async () => {
    const r = await runCli(['study', 'job.yaml', 'symbol=Z'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no hpo task matches "symbol=Z"');
    writeFileSync(join(dir, 'plain.yaml'), 'name: plain\nstages:\n  - id: work\n    plugin: steps\n');
    const p = await runCli(['study', 'plain.yaml'], { cwd: dir });
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('plain.yaml has no stage with plugin: hpo');
  });

  test('reads the store while a runner is writing it, and shows running trials', async () => {
    const live = tempProject({ 'job.yaml': spec({ name: 'live', hpo: { trials: 8, parallel: 2, sampler: { type: 'random', seed: 1 }, space: SPACE }, train: { epochs: 6, stepMs: 60 } }) });
    const runner = spawnCli(['start', 'job.yaml'], { cwd: live });
    let sawRunning = false;
    try {
      await waitFor(
        async () => {
          const r = await runCli(['study', 'job.yaml', '--json'], { cwd: live });
          if (r.code !== 0) throw new Error(r.stderr);
          // Before the first trial starts there may be no study yet.
          const s = JSON.parse(r.stdout).studies?.[0];
          sawRunning ||= (s?.counts?.running ?? 0) > 0;
          return sawRunning;
        },
        20_000,
        'a running trial in runner study',
      );
    } finally {
      const res = await runner.done;
      expect(res.code, res.stderr).toBe(0);
    }
    expect(sawRunning).toBe(true);
    const after = await cliJson<{ studies: { counts: { complete: number } }[] }>(['study', 'job.yaml'], { cwd: live });
    expect(after.studies[0]!.counts.complete).toBe(8);
  });
});
