/**
 * Crash safety through the real CLI: `runner start` trains on worker threads, is killed with
 * SIGKILL in the middle of training, and the same command finishes the job. The final weights
 * must equal, byte for byte, those of a run that was never interrupted. Needs `pnpm build`.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { cliJson, runCli, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';

const FIXTURE = resolve(fileURLToPath(import.meta.url), '../fixtures/synthetic-download.mjs');

const job = (name: string) => `
name: ${name}
matrix: { symbol: [AAA], horizon: [1, 3] }
pool: { threads: 2 }
stages:
  - id: download
    plugin: ${FIXTURE}
    per: [symbol]
    options: { rows: 2500 }
  - id: train
    plugin: train
    needs: [download]
    options:
      data: { features: [{ returns: [1, 5, 20] }, { rsi: 14 }, { volatility: 20 }] }
      model:
        layers:
          - dense: { units: 32, activation: relu }
          - dropout: { rate: 0.1 }
          - dense: { units: 1 }
      optimizer: { adam: { lr: 0.003 } }
      epochs: 10
      batchSize: 16
      checkpointEvery: 2
      backend: wasm
`;

interface TaskRow {
  id: string;
  stage: string;
  state: string;
  result: { model: { final: string; sha256: { final: string } }; epochs: number; resumedFrom?: { epoch: number } } | null;
}

function trainTasks(rows: TaskRow[]): TaskRow[] {
  return rows.filter((t) => t.stage === 'train').sort((a, b) => a.id.localeCompare(b.id));
}

function events(dir: string, name: string): Record<string, any>[] {
  try {
    return readFileSync(join(dir, 'runs', name, 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

describe('train through the CLI', () => {
  test('SIGKILL during training, then rerun: the final weights equal an uninterrupted run', async () => {
    const ref = tempProject({ 'job.yaml': job('ref') });
    const crash = tempProject({ 'job.yaml': job('crash') });

    const first = spawnCli(['start', 'job.yaml', '--plain'], { cwd: crash });
    // Kill once some training task is past its third epoch (so a checkpoint exists).
    await waitFor(
      () => events(crash, 'crash').some((e) => e.type === 'task:event' && e.name === 'epoch' && e.data.epoch >= 3),
      60_000,
      'training to pass epoch 3',
    );
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const mid = trainTasks(await cliJson<TaskRow[]>(['tasks', 'job.yaml'], { cwd: crash }));
    expect(mid.some((t) => t.state !== 'completed')).toBe(true);

    // Meanwhile nothing else runs: the reference run goes after the kill, for stable timing.
    const [again, reference] = [await runCli(['start', 'job.yaml', '--plain'], { cwd: crash }), await runCli(['start', 'job.yaml', '--plain'], { cwd: ref })];
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(reference.code, reference.stdout + reference.stderr).toBe(0);

    const got = trainTasks(await cliJson<TaskRow[]>(['tasks', 'job.yaml'], { cwd: crash }));
    const want = trainTasks(await cliJson<TaskRow[]>(['tasks', 'job.yaml'], { cwd: ref }));
    expect(got.map((t) => t.state)).toEqual(['completed', 'completed']);
    expect(got.map((t) => t.id)).toEqual(want.map((t) => t.id));
    for (const [i, t] of got.entries()) {
      const a = readFileSync(join(t.result!.model.final, 'weights.bin'));
      const b = readFileSync(join(want[i]!.result!.model.final, 'weights.bin'));
      expect(a.equals(b), `${t.id}: final weights differ from the uninterrupted run`).toBe(true);
      expect(t.result!.model.sha256.final).toBe(want[i]!.result!.model.sha256.final);
      expect(t.result!.epochs).toBe(10);
    }
    // At least one task really resumed from a checkpoint rather than starting over.
    const resumed = events(crash, 'crash').filter((e) => e.type === 'task:start' && e.stage === 'train' && e.resumeFrom);
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed.every((e) => e.resumeFrom.step >= 2)).toBe(true);
    expect(again.stdout + again.stderr).toMatch(/resuming from (periodic|failure|cancellation) checkpoint/);
  }, 120_000);
});
