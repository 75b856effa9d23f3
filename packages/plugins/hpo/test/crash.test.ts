/**
 * kill -9 the runner mid-study at random moments, run the same command again: each study ends at
 * its target with no trial left RUNNING, no duplicate numbers, interrupted trials retried with
 * their parameters; and a seeded sequential study ends exactly as an uninterrupted one.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, runCli, sleep, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';
import { lossOf } from './fixtures/objective.mjs';
import { spec, trace } from './helpers.js';

interface StudyJson {
  studies: {
    name: string;
    taskState: string;
    counts: { complete: number; pruned: number; failed: number; running: number; waiting: number };
    trials: { number: number; state: string; value: number | null; params: Record<string, unknown>; intermediate: [number, number][]; attempts: number; failures?: { reason: string }[] }[];
  }[];
}

const SPACE = { x: { float: [-1, 1] }, y: { float: [-1, 1] }, act: { choice: ['relu', 'tanh'] } };

function project(hpo: Record<string, unknown>, stepMs = 20): string {
  const dir = tempProject({});
  writeFileSync(join(dir, 'job.yaml'), spec({ hpo, train: { epochs: 5, stepMs, traceFile: join(dir, 'trace.log') } }));
  return dir;
}

async function study(dir: string): Promise<StudyJson['studies'][number]> {
  return (await cliJson<StudyJson>(['study', 'job.yaml'], { cwd: dir })).studies[0]!;
}

/** Starts the runner, kills it with SIGKILL at a random moment once trials run; returns whether it was killed. */
async function killOnce(dir: string, rand: () => number, windowMs = 700): Promise<boolean> {
  const before = trace(dir).length;
  const r = spawnCli(['start', 'job.yaml'], { cwd: dir });
  try {
    await waitFor(() => trace(dir).length > before || r.child.exitCode !== null, 20_000, 'a trial to run');
  } catch (err) {
    r.child.kill('SIGKILL');
    throw err;
  }
  await sleep(rand() * windowMs);
  r.child.kill('SIGKILL');
  const res = await r.done;
  return res.signal === 'SIGKILL';
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('hpo crash safety (real runner processes, SIGKILL)', () => {
  test('killed at random moments with trials in parallel: exactly the target of finished trials, none RUNNING, unique numbers, retried trials keep their parameters', async () => {
    const dir = project({ trials: 16, parallel: 2, sampler: { type: 'tpe', seed: 7 }, pruner: { type: 'median', startupTrials: 3, warmupSteps: 1 }, space: SPACE }, 40);
    const rand = lcg(99);
    const seenRunning = new Map<number, Record<string, unknown>>();
    let kills = 0;
    for (let round = 0; round < 5; round++) {
      if (!(await killOnce(dir, rand, 500))) break;
      kills++;
      const s = await study(dir);
      for (const t of s.trials.filter((x) => x.state === 'RUNNING')) seenRunning.set(t.number, t.params);
    }
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(seenRunning.size).toBeGreaterThan(0);
    const done = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(done.code, done.stdout + done.stderr).toBe(0);

    const s = await study(dir);
    expect(s.taskState).toBe('completed');
    expect(s.counts.complete + s.counts.pruned).toBe(16);
    expect(s.counts.running + s.counts.waiting).toBe(0);
    const numbers = s.trials.map((t) => t.number);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    for (const [n, params] of seenRunning) {
      const t = s.trials.find((x) => x.number === n)!;
      expect(t.params, `trial ${n}`).toEqual(params);
      expect(t.attempts, `trial ${n}`).toBeGreaterThanOrEqual(2);
      expect(t.failures?.[0]?.reason, `trial ${n}`).toMatch(/^interrupted: /);
    }
    for (const t of s.trials.filter((x) => x.state === 'COMPLETE')) expect(t.value).toBeCloseTo(lossOf(t.params as never) + 1 / 5, 12);
    // A retried trial resumed its child task from its checkpoints: no trial ran more epochs than
    // it has plus those lost since its last checkpoint (at most one per kill).
    const perTrial = new Map<string, number>();
    for (const line of trace(dir).filter((l) => l.includes('/trial='))) {
      const id = line.split(' ')[0]!;
      perTrial.set(id, (perTrial.get(id) ?? 0) + 1);
    }
    for (const [id, epochs] of perTrial) expect(epochs, id).toBeLessThanOrEqual(5 + kills);
  });

  test('a seeded sequential study gives the same trials whether or not it was interrupted, pruning included', async () => {
    // A kill between a child's checkpoint and the study recording that epoch's value would lose
    // the value, but the resumed child replays it (the next test kills exactly there).
    const hpo = { trials: 12, parallel: 1, retryInterrupted: 5, sampler: { type: 'tpe', seed: 3 }, pruner: { type: 'median', startupTrials: 2, warmupSteps: 1 }, space: SPACE };
    const clean = project(hpo, 40);
    const base = await runCli(['start', 'job.yaml'], { cwd: clean });
    expect(base.code, base.stderr).toBe(0);
    const expected = await study(clean);

    const dir = project(hpo, 40);
    const rand = lcg(4242);
    let kills = 0;
    for (let round = 0; round < 4; round++) if (await killOnce(dir, rand, 500)) kills++;
    expect(kills).toBeGreaterThanOrEqual(2);
    const done = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const got = await study(dir);
    const view = (s: typeof got) => s.trials.map((t) => [t.number, t.state, t.params, t.value, t.intermediate]);
    expect(view(got)).toEqual(view(expected));
    expect(expected.trials.some((t) => t.state === 'PRUNED')).toBe(true);
    expect(got.trials.some((t) => t.attempts > 1)).toBe(true);
  });

  test('a kill between a child checkpointing an epoch and the study recording its value loses nothing: the resumed child replays it, and the pruner decides as in an uninterrupted run', async () => {
    const hpo = { trials: 12, parallel: 1, sampler: { type: 'tpe', seed: 5 }, pruner: { type: 'median', startupTrials: 2, warmupSteps: 2 }, space: SPACE };
    const clean = project(hpo, 0);
    const base = await runCli(['start', 'job.yaml'], { cwd: clean });
    expect(base.code, base.stderr).toBe(0);
    const expected = await study(clean);
    // The victim: a trial the pruner stopped at epoch k ≥ 2. Its child dies right after it
    // checkpointed epoch k and before it reported it, so the study never hears of epoch k and
    // the resumed child starts after it: only a replay can bring the value (and the decision) back.
    const victim = expected.trials.find((t) => t.state === 'PRUNED' && t.intermediate.length >= 2)!;
    expect(victim, 'a trial pruned after its second epoch').toBeDefined();
    const k = Math.max(...victim.intermediate.map(([step]) => step));

    const dir = tempProject({});
    const marker = join(dir, 'died');
    writeFileSync(join(dir, 'job.yaml'), spec({ hpo, train: { epochs: 5, traceFile: join(dir, 'trace.log'), dieAt: `trial=${victim.number}:${k}`, dieMarker: marker } }));
    const killed = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
    expect(readFileSync(marker, 'utf8').trim()).toBe(`hpo/symbol=A/cycle=1/trial=${victim.number} ${k}`);
    const cut = (await study(dir)).trials.find((t) => t.number === victim.number)!;
    expect(cut.state).toBe('RUNNING');
    expect(cut.intermediate.map(([step]) => step)).not.toContain(k);

    const done = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const got = await study(dir);
    const view = (s: typeof got) => s.trials.map((t) => ({ number: t.number, state: t.state, params: t.params, value: t.value, intermediate: t.intermediate }));
    expect(view(got)).toEqual(view(expected));
    const again = got.trials.find((t) => t.number === victim.number)!;
    expect(again.attempts).toBe(2);
    // The child resumed after epoch k: it did not train epoch k twice.
    expect(trace(dir).filter((l) => l === `hpo/symbol=A/cycle=1/trial=${victim.number} ${k}`)).toHaveLength(1);
    expect(existsSync(marker)).toBe(true);
  });
});
