/**
 * The quick start as a user runs it — download → train → report — killed with SIGKILL in the
 * middle and run again: the models equal those of an uninterrupted run, byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, REPO, runCli, spawnCli, tempProject, waitFor } from './helpers/cli.js';

const spec = readFileSync(join(REPO, 'configs/quickstart.yaml'), 'utf8');
// Smaller than the real thing, so the test stays quick; same shape.
const FAST = ['--set', 'stages.download.options.source.bars=3000', '--set', 'stages.train.options.epochs=12', '--set', 'stages.train.options.checkpointEvery=2', '--set', 'stages.report.options.stepMs=1'];

interface Row {
  id: string;
  state: string;
  attempts: number;
  result: { sha256?: string; model?: { sha256: { final: string } } } | null;
}

async function models(dir: string): Promise<Record<string, string>> {
  const rows = await cliJson<Row[]>(['tasks', 'job.yaml', ...FAST], { cwd: dir });
  expect(rows.every((r) => r.state === 'completed')).toBe(true);
  return Object.fromEntries(rows.map((r) => [r.id, r.result?.model?.sha256.final ?? r.result?.sha256 ?? '']));
}

describe('quick start', () => {
  test('runs, and a SIGKILL mid-training then rerun gives byte-identical models', async () => {
    const clean = tempProject({ 'job.yaml': spec });
    const first = await runCli(['start', 'job.yaml', ...FAST], { cwd: clean });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain('quickstart: 10/10 completed');
    const expected = await models(clean);

    const dir = tempProject({ 'job.yaml': spec });
    const run = spawnCli(['start', 'job.yaml', ...FAST], { cwd: dir });
    await waitFor(async () => {
      const rows = await cliJson<any[]>(['tasks', 'job.yaml', ...FAST], { cwd: dir });
      return rows.some((r) => r.stage === 'train' && r.lastCheckpoint && r.state === 'running');
    }, 60_000, 'a training to checkpoint');
    run.child.kill('SIGKILL');
    await run.done;
    const again = await runCli(['start', 'job.yaml', ...FAST], { cwd: dir });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/left running by a runner that is gone/);
    expect(again.stdout).toMatch(/resumed from checkpoints/);
    expect(await models(dir)).toEqual(expected);
  }, 180_000);
});
