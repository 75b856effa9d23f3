/** Shared by the paper plugin's CLI tests: a project with a stored series and a paper stage. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSeries } from '@runner/core/series';
import { cliJson, spawnCli, tempProject, type CliResult } from '@runner/test-helpers/cli';
import { syntheticBars, type Bar } from '../src/testing/feed-server.js';

export const STRATEGY = { fast: 3, slow: 8 };
export const BARS = syntheticBars(800, { seed: 11, stepMs: 60_000 });

export function job(name: string, feed: string, extra = ''): string {
  return `name: ${name}
matrix: { symbol: [AAA] }
stages:
  - id: download
    plugin: download
    per: [symbol]
    options:
      source: { type: file, path: ./bars.arrow, interval: 1m }
  - id: paper
    plugin: paper
    per: [symbol]
    needs: [download]
    options:
      feed: ${feed}
      strategy: { type: sma-cross, fast: ${STRATEGY.fast}, slow: ${STRATEGY.slow} }
      cash: 100000
      commission: { pct: 0.1 }
      slippage: { bps: 2 }
      sizing: { units: 10 }
${extra}`;
}

export async function project(name: string, feed: string, bars: Bar[] = BARS, extra = ''): Promise<string> {
  const dir = tempProject({ 'job.yaml': job(name, feed, extra) }, 'paper-it-');
  await writeSeries(join(dir, 'bars.arrow'), columnsOf(bars), { symbol: 'AAA' });
  return dir;
}

export function columnsOf(bars: Bar[]) {
  return {
    time: Float64Array.from(bars, (b) => b.time),
    open: Float64Array.from(bars, (b) => b.open),
    high: Float64Array.from(bars, (b) => b.high),
    low: Float64Array.from(bars, (b) => b.low),
    close: Float64Array.from(bars, (b) => b.close),
    volume: Float64Array.from(bars, (b) => b.volume),
  };
}

export interface PaperTask {
  id: string;
  stage: string;
  state: string;
  attempts: number;
  result: any;
}

export async function paperTask(cwd: string): Promise<PaperTask> {
  const rows = await cliJson<PaperTask[]>(['tasks', 'job.yaml'], { cwd });
  return rows.find((r) => r.stage === 'paper')!;
}

/** The exported files of a finished paper task, as text. */
export function exported(cwd: string, name: string, task: PaperTask): Record<string, string> {
  const f = task.result.files;
  const runDir = join(cwd, 'runs', name);
  const read = (p: string) => readFileSync(join(runDir, p), 'utf8');
  return { trades: read(f.fills.csv), equity: read(f.equity.csv), rounds: read(f.trades.csv), metrics: read(f.metrics) };
}

/**
 * Starts `runner start job.yaml --verbose --plain` and kills it with `signal` as soon as `when`
 * says so for the output so far (checked on every chunk, so the kill lands right after the line).
 */
export function startAndKill(cwd: string, when: (out: string) => boolean, signal: NodeJS.Signals = 'SIGKILL'): Promise<CliResult & { killed: boolean }> {
  const r = spawnCli(['start', 'job.yaml', '--verbose', '--plain'], { cwd });
  let killed = false;
  const check = () => {
    if (!killed && when(r.output())) {
      killed = true;
      r.child.kill(signal);
    }
  };
  r.child.stdout!.on('data', check);
  r.child.stderr!.on('data', check);
  return r.done.then((res) => ({ ...res, killed }));
}

export function count(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
  return n;
}
