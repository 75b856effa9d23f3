/**
 * The chaos schedule that found issue 8, made deterministic: each kill comes when a given line
 * appears, never after a given time. A seeded sequential study over real wasm training is killed
 * right after trial 0's first checkpoint, twice more inside trial 0's retry before it trained
 * anything (so its child task is quarantined and finishes in its own process), and right after a
 * pruned trial's cancellation checkpoint. Then the same command runs to the end. Everything must
 * equal an uninterrupted run: the study, bestParams, the status counts and every artifact file.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, runCli, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';

const SPEC = `name: chaos
matrix: { symbol: [AAPL] }
pool: { threads: 2 }
lease: { heartbeatMs: 200 }
stages:
  - id: download
    plugin: download
    options:
      source: { type: synthetic, interval: 1h, start: 2024-01-01, bars: 1200, seed: 7 }
  - id: hpo
    plugin: hpo
    needs: [download]
    options:
      trials: 5
      parallel: 1
      sampler: { type: tpe, seed: 11, startupTrials: 2 }
      pruner: { type: median, startupTrials: 1, warmupSteps: 0 }
      space:
        optimizer.adam.lr: { float: [1.0e-4, 3.0e-2], log: true }
        units: { int: [4, 32], step: 4 }
      objective: { stage: train, metric: val_loss }
  - id: train
    plugin: train
    needs: [download, hpo]
    options:
      data: { from: download, features: [{ returns: [1, 5] }, { rsi: 14 }], label: { forwardReturn: 1 }, split: { val: 0.2 } }
      model: { layers: [{ dense: { units: '\${params.units}', activation: relu } }, { dense: { units: 1 } }] }
      optimizer: { adam: { lr: 0.001 } }
      loss: mse
      epochs: 6
      checkpointEvery: 1
      batchSize: 64
      backend: wasm
      seed: 1
`;

const STUDY = 'hpo/symbol=AAPL/cycle=1';

/** Starts the runner and SIGKILLs it the moment a line matching `line` is printed. */
async function killAt(dir: string, line: RegExp, what: string): Promise<string> {
  const run = spawnCli(['start', 'job.yaml', '--plain', '--verbose'], { cwd: dir });
  try {
    await waitFor(() => line.test(run.output()) || run.child.exitCode !== null, 300_000, what);
  } finally {
    run.child.kill('SIGKILL');
  }
  const r = await run.done;
  expect(r.signal, `${what}: the runner ended before the line appeared:\n${r.stdout}${r.stderr}`).toBe('SIGKILL');
  return r.stdout;
}

/**
 * Every file under the run's artifacts and the data directory (the downloaded series), with its
 * sha256; checkpoint payloads aside (their names carry the attempt that saved them), and the
 * fetch time in a series manifest.
 */
function artifactTree(dir: string): Record<string, string> {
  const root = dir;
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        if (name !== '.checkpoints') walk(p);
      } else {
        let bytes = readFileSync(p);
        // A series manifest records when the data was fetched (provenance); all else must match.
        if (name.endsWith('.meta.json')) bytes = Buffer.from(readFileSync(p, 'utf8').replace(/"retrievedAt":\s*"[^"]*"/g, '"retrievedAt":"-"'));
        out[relative(root, p)] = createHash('sha256').update(bytes).digest('hex');
      }
    }
  };
  walk(join(dir, 'runs', 'chaos', 'artifacts'));
  walk(join(dir, 'data'));
  return out;
}

async function outcome(dir: string) {
  const study = (await cliJson<any>(['study', 'job.yaml', STUDY, '--format', 'json'], { cwd: dir })).studies[0];
  const status = await cliJson<any>(['status', 'job.yaml'], { cwd: dir });
  const tasks = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
  const hpo = tasks.find((t) => t.id === STUDY);
  const train = tasks.find((t) => t.id === 'train/symbol=AAPL/cycle=1');
  const exports = {
    csv: (await runCli(['study', 'job.yaml', '--format', 'csv', '--results-only'], { cwd: dir })).stdout,
    json: (await runCli(['study', 'job.yaml', STUDY, '--format', 'json', '--results-only'], { cwd: dir })).stdout,
  };
  return {
    exports,
    trials: study.trials.map((t: any) => ({ number: t.number, state: t.state, params: t.params, value: t.value, intermediate: t.intermediate })),
    bestParams: hpo.result.bestParams,
    bestValue: hpo.result.bestValue,
    counts: { tasks: status.tasks, children: status.children, stages: status.stages },
    finalModel: train.result.model.sha256,
    attempts: Object.fromEntries(study.trials.map((t: any) => [t.number, t.attempts])),
  };
}

describe('chaos: kills at the moments that matter, then the same command', () => {
  test('a study killed inside a retry and after a pruned trial cancelled ends exactly as an uninterrupted one, file for file', async () => {
    const clean = tempProject({ 'job.yaml': SPEC }, 'runner-chaos-clean-');
    const dir = tempProject({ 'job.yaml': SPEC }, 'runner-chaos-');
    const uninterrupted = runCli(['start', 'job.yaml', '--plain'], { cwd: clean });

    await killAt(dir, new RegExp(`checkpoint ${STUDY}/trial=0 #1 `), "trial 0's first checkpoint");
    // Twice inside the retry of trial 0, before it trained anything: its child prints this when it starts.
    for (let k = 0; k < 2; k++) await killAt(dir, new RegExp(`info ${STUDY}/trial=0 \\S+: \\d+ bars`), `trial 0's retry ${k + 1}`);
    const pruned = await killAt(dir, new RegExp(`checkpoint ${STUDY}/trial=\\d+ #\\d+ cancellation`), "a pruned trial's cancellation checkpoint");
    expect(pruned).toMatch(new RegExp(`${STUDY}/trial=0 is quarantined: it was running at each of the last 2 runner deaths`));
    const last = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    expect(last.code, last.stdout + last.stderr).toBe(0);
    expect((await uninterrupted).code).toBe(0);

    const a = await outcome(dir);
    const b = await outcome(clean);
    expect(a.attempts[0]).toBe(4);
    expect(b.attempts[0]).toBe(1);
    expect(a.trials.some((t: any) => t.state === 'PRUNED')).toBe(true);
    expect(a.trials).toEqual(b.trials);
    expect(a.bestParams).toEqual(b.bestParams);
    expect(a.bestValue).toBe(b.bestValue);
    expect(a.counts).toEqual(b.counts);
    expect(a.counts.children.pending).toBe(0);
    expect(a.finalModel).toEqual(b.finalModel);
    // The study exports, byte for byte (--results-only leaves out times and attempts).
    expect(a.exports.csv).toContain('study,number,state,value');
    expect(a.exports.csv).toBe(b.exports.csv);
    expect(a.exports.json).toBe(b.exports.json);
    // Every artifact, byte for byte: models (model.json included), histories, normalisers.
    const treeA = artifactTree(dir);
    expect(Object.keys(treeA)).toContain('runs/chaos/artifacts/train/symbol=AAPL/cycle=1/model/final/model.json');
    expect(Object.keys(treeA).some((f) => f.startsWith('data/') && f.endsWith('AAPL.arrow'))).toBe(true);
    expect(treeA).toEqual(artifactTree(clean));
  }, 900_000);
});
