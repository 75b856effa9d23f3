/**
 * A define-by-run study with conditional and nested parameters (a custom plugin on the study API,
 * in the run store) under kill -9: the real runner is killed with SIGKILL while a trial has asked
 * for its shared parameters but not yet for its branch's (the trial holds there until the kill),
 * at several trials (startup, then model trials), and run again until it completes. The study must equal an uninterrupted run's: the same
 * trials, parameters and values. The retried attempt takes the branch's parameters from the joint
 * suggestion stored with the trial when it was asked.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { openPluginDb, RunStore } from '@runner/core';
import { runCli, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';
import { readStudy } from '../src/index.js';
import type { StudyStorage } from '../src/types.js';

const PLUGIN = fileURLToPath(new URL('./fixtures/conditional-search.mjs', import.meta.url));

const HOLD_AT = [3, 10, 15, 16, 21];

function project(sampler: string, hold: boolean): string {
  const dir = tempProject({});
  const options = { sampler, trials: 24, traceFile: join(dir, 'trace.log'), ...(hold ? { holdAt: HOLD_AT, holdDir: dir } : {}) };
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

/** Starts the runner and kills it with SIGKILL while trial `k` holds between its shared and its branch parameters. */
async function killAt(dir: string, k: number): Promise<boolean> {
  const r = spawnCli(['start', 'job.yaml'], { cwd: dir });
  try {
    await waitFor(() => lines(dir).includes(`${k} held`) || r.child.exitCode !== null, 60_000, `trial ${k} to hold`);
  } catch (err) {
    r.child.kill('SIGKILL');
    throw err;
  }
  r.child.kill('SIGKILL');
  return (await r.done).signal === 'SIGKILL';
}

describe('define-by-run conditional study under SIGKILL (real runner processes)', () => {
  for (const sampler of ['gp', 'tpe']) {
    test(`${sampler}: killed between a trial's shared and branch parameters, it ends as an uninterrupted study`, async () => {
      const clean = project(sampler, false);
      const base = await runCli(['start', 'job.yaml'], { cwd: clean });
      expect(base.code, base.stdout + base.stderr).toBe(0);
      const expected = trials(clean);
      expect(expected.filter((t) => t.state === 'COMPLETE')).toHaveLength(24);
      // Some trials take a branch with parameters of its own (the kill must matter).
      expect(expected.filter((t) => 'momentum' in t.params || 'beta1' in t.params).length).toBeGreaterThan(5);

      const dir = project(sampler, true);
      let kills = 0;
      // In the startup trials, at the first model trial, twice in a row later on.
      for (const k of HOLD_AT) if (await killAt(dir, k)) kills++;
      expect(kills).toBe(HOLD_AT.length);
      const done = await runCli(['start', 'job.yaml'], { cwd: dir });
      expect(done.code, done.stdout + done.stderr).toBe(0);
      const got = trials(dir);
      const view = (ts: typeof got) => ts.map((t) => [t.number, t.state, t.params, t.value]);
      expect(view(got)).toEqual(view(expected));
      // Each kill landed inside its trial, which was retried under its number.
      expect(got.filter((t) => t.attempts > 1).map((t) => t.number)).toEqual(HOLD_AT);
    }, 240_000);
  }
});
