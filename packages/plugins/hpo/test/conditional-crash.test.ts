/**
 * A define-by-run study with conditional and nested parameters (a custom plugin on the study API,
 * in the run store) under kill -9: the real runner is killed with SIGKILL while a trial has asked
 * for its shared parameters but not yet for its branch's, at several trials (startup, then model
 * trials), and run again until it completes. The study must equal an uninterrupted run's: the same
 * trials, parameters and values. The retried attempt takes the branch's parameters from the joint
 * suggestion stored with the trial when it was asked.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { openPluginDb, RunStore } from '@runner/core';
import { runCli, sleep, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';
import { readStudy } from '../src/index.js';
import type { StudyStorage } from '../src/types.js';

const PLUGIN = fileURLToPath(new URL('./fixtures/conditional-search.mjs', import.meta.url));

function project(sampler: string): string {
  const dir = tempProject({});
  const options = { sampler, trials: 24, traceFile: join(dir, 'trace.log'), pauseMs: 40 };
  writeFileSync(
    join(dir, 'job.yaml'),
    [`name: cond-test`, `plugins: [${JSON.stringify(PLUGIN)}]`, 'matrix: { symbol: [A] }', 'lease: { heartbeatMs: 200 }', 'stages:', '  - id: search', '    plugin: conditional-search', `    options: ${JSON.stringify(options)}`, ''].join('\n'),
  );
  return dir;
}

function lines(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'trace.log'), 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function trials(dir: string): { number: number; state: string; params: Record<string, unknown>; value?: number; attempts: number }[] {
  const store = RunStore.open(join(dir, 'runs', 'cond-test'), { readOnly: true });
  try {
    // The plugin's own studies database (ctx.db('studies') of plugin "conditional-search").
    const db = openPluginDb(store, 'conditional-search', 'studies');
    const s = readStudy(db as unknown as StudyStorage, 'cond');
    return (s?.trials ?? []).map((t) => ({ number: t.number, state: t.state, params: t.params, value: t.value, attempts: t.attempts }));
  } finally {
    void store.close();
  }
}

/** Starts the runner and kills it with SIGKILL right after trial `k` wrote "k mid" (plus a random moment inside its pause). */
async function killAt(dir: string, k: number, jitter: number): Promise<boolean> {
  const r = spawnCli(['start', 'job.yaml'], { cwd: dir });
  try {
    await waitFor(() => lines(dir).includes(`${k} mid`) || r.child.exitCode !== null, 60_000, `trial ${k} to start`);
  } catch (err) {
    r.child.kill('SIGKILL');
    throw err;
  }
  await sleep(jitter);
  r.child.kill('SIGKILL');
  return (await r.done).signal === 'SIGKILL';
}

describe('define-by-run conditional study under SIGKILL (real runner processes)', () => {
  for (const sampler of ['gp', 'tpe']) {
    test(`${sampler}: killed between a trial's shared and branch parameters, it ends as an uninterrupted study`, async () => {
      const clean = project(sampler);
      const base = await runCli(['start', 'job.yaml'], { cwd: clean });
      expect(base.code, base.stdout + base.stderr).toBe(0);
      const expected = trials(clean);
      expect(expected.filter((t) => t.state === 'COMPLETE')).toHaveLength(24);
      // Some trials take a branch with parameters of its own (the kill must matter).
      expect(expected.filter((t) => 'momentum' in t.params || 'beta1' in t.params).length).toBeGreaterThan(5);

      const dir = project(sampler);
      let kills = 0;
      // In the startup trials, at the first model trial, twice in a row later on.
      for (const [k, jitter] of [[3, 0], [10, 10], [15, 25], [16, 0], [21, 35]] as const) if (await killAt(dir, k, jitter)) kills++;
      expect(kills).toBeGreaterThanOrEqual(4);
      const done = await runCli(['start', 'job.yaml'], { cwd: dir });
      expect(done.code, done.stdout + done.stderr).toBe(0);
      const got = trials(dir);
      const view = (ts: typeof got) => ts.map((t) => [t.number, t.state, t.params, t.value]);
      expect(view(got)).toEqual(view(expected));
      // The kills landed inside trials, which were retried under their numbers.
      expect(got.filter((t) => t.attempts > 1).length).toBeGreaterThanOrEqual(4);
    }, 240_000);
  }
});
