/**
 * The GP and auto samplers under kill -9: the real runner is killed with SIGKILL at random moments
 * of a seeded sequential study (startup trials and GP trials), run again until it completes, and
 * the study must equal an uninterrupted run's: the same trials, parameters and values. The GP's
 * only state between asks (its last fitted hyperparameters) travels with each trial like the RNG.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, runCli, sleep, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';
import { spec, trace } from './helpers.js';

interface StudyJson {
  studies: { taskState: string; trials: { number: number; state: string; value: number | null; params: Record<string, unknown>; attempts: number }[] }[];
}

const SPACE = { x: { float: [-1, 1] }, y: { float: [-1, 1] }, units: { int: [16, 128], log: true }, act: { choice: ['relu', 'tanh'] } };

function project(hpo: Record<string, unknown>): string {
  const dir = tempProject({});
  writeFileSync(join(dir, 'job.yaml'), spec({ hpo, train: { epochs: 3, stepMs: 30, traceFile: join(dir, 'trace.log') } }));
  return dir;
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** Starts the runner and kills it with SIGKILL once `after` more epochs ran, plus a random moment. */
async function killOnce(dir: string, rand: () => number, after: number): Promise<boolean> {
  const before = trace(dir).length;
  const r = spawnCli(['start', 'job.yaml'], { cwd: dir });
  try {
    await waitFor(() => trace(dir).length >= before + after || r.child.exitCode !== null, 60_000, 'trials to run');
  } catch (err) {
    r.child.kill('SIGKILL');
    throw err;
  }
  await sleep(rand() * 150);
  r.child.kill('SIGKILL');
  return (await r.done).signal === 'SIGKILL';
}

describe('GP and auto samplers under SIGKILL (real runner processes)', () => {
  for (const type of ['gp', 'auto']) {
    test(`${type}: a seeded sequential study gives the same trials whether or not it was killed`, async () => {
      const hpo = { trials: 16, parallel: 1, retryInterrupted: 5, sampler: { type, seed: 11 }, space: SPACE };
      const clean = project(hpo);
      const base = await runCli(['start', 'job.yaml'], { cwd: clean });
      expect(base.code, base.stderr).toBe(0);
      const expected = (await cliJson<StudyJson>(['study', 'job.yaml'], { cwd: clean })).studies[0]!;

      const dir = project(hpo);
      const rand = lcg(type === 'gp' ? 7 : 8);
      let kills = 0;
      // Kills spread over the study: a few epochs in (startup trials), then later (GP trials).
      for (const after of [4, 14, 12, 8]) if (await killOnce(dir, rand, after)) kills++;
      expect(kills).toBeGreaterThanOrEqual(3);
      const done = await runCli(['start', 'job.yaml'], { cwd: dir });
      expect(done.code, done.stdout + done.stderr).toBe(0);
      const got = (await cliJson<StudyJson>(['study', 'job.yaml'], { cwd: dir })).studies[0]!;
      const view = (s: typeof got) => s.trials.map((t) => [t.number, t.state, t.params, t.value]);
      expect(view(got)).toEqual(view(expected));
      expect(got.trials.filter((t) => t.attempts > 1).length).toBeGreaterThan(0);
      // Some kills landed after the startup trials, while the GP chose the trials.
      expect(got.trials.some((t) => t.number >= 10 && t.attempts > 1)).toBe(true);
    }, 240_000);
  }
});
