#!/usr/bin/env node
/**
 * `pnpm bench chaos [--kills 50] [--seed 1]`: the quick-start pipeline (scaled as in CI) under a
 * long schedule of SIGKILLs — during startup, right after checkpoint lines, inside retried trials,
 * at random lines — plus reboots (lock files removed), until it completes; then every artifact,
 * result, study and count is compared with an uninterrupted run.
 *
 * Repeated work is the wall time the interrupted runs spent beyond the uninterrupted one, less what
 * the restarts themselves cost (a start of the finished run, which only plans and exits), per kill
 * against the time one checkpoint interval of the final trainings takes (the bound the issue sets).
 * Ends with `RESULT kills=<n> divergences=<n> repeated_work_pct=<n>`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffSnapshots, removeLockFiles, REPO, rng, runUntilDone, snapshotRun } from '../../test/chaos/harness.mjs';
import { CHAOS_SET } from '../../test/chaos/scale.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const KILLS = arg('kills', 50);
const SEED = arg('seed', 1);
const SPEC = readFileSync(join(REPO, 'configs/quickstart.yaml'), 'utf8');
const ARGS = ['job.yaml', '-v', ...CHAOS_SET];

function project() {
  const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-bench-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'chaos', private: true }));
  writeFileSync(join(dir, 'job.yaml'), SPEC);
  return dir;
}

const t0 = Date.now();
const clean = project();
const base = await runUntilDone({ cwd: clean, args: ARGS, schedule: () => null });
const cleanMs = base.runs[0].wallMs;
const expected = await snapshotRun(clean, 'job.yaml', 'quickstart', CHAOS_SET);
// One checkpoint interval of a final training, from the clean run's own output: the median time
// between two consecutive checkpoint lines of the same train task.
const ckptGaps = checkpointGaps(clean);
// What a restart costs before any work: a start of the finished run, which only plans and exits.
const idle = [];
for (let k = 0; k < 3; k++) idle.push((await runUntilDone({ cwd: clean, args: ARGS, schedule: () => null })).runs[0].wallMs);
const startupMs = idle.sort((a, b) => a - b)[1];
console.log(`uninterrupted: ${(cleanMs / 1000).toFixed(1)} s, ${expected.counts.total} tasks, ${Object.keys(expected.files).length} files; checkpoint interval of a training ≈ ${ckptGaps.toFixed(0)} ms`);

const r = rng(SEED);
let kills = 0;
let divergences = 0;
let attempts = 0;
let chaosMs = 0;
const triggers = {};
// Several passes: each starts from a fresh project and runs to completion under kills, until the
// total number of kills reaches the target.
while (kills < KILLS) {
  const dir = project();
  attempts++;
  let i = 0;
  const res = await runUntilDone({
    cwd: dir,
    args: ARGS,
    schedule: () => {
      // At most 25 kills per pass, then let it finish.
      if (i++ >= 25 || kills >= KILLS) return null;
      const x = r();
      if (x < 0.15) return { kind: 'startup' };
      if (x < 0.5) return { kind: 'line', match: /checkpoint/, nth: 1 + Math.floor(r() * 6) };
      if (x < 0.6) return { kind: 'line', match: /is retried with the same parameters|resuming from/, nth: 1 };
      return { kind: 'lines', nth: 5 + Math.floor(r() * 80) };
    },
    onRun: (run) => {
      if (run.killed) {
        kills++;
        triggers[run.trigger.replace(/#\d+/, '#n')] = (triggers[run.trigger.replace(/#\d+/, '#n')] ?? 0) + 1;
        // One death in five is a reboot: no lock file survives it.
        if (r() < 0.2) removeLockFiles(dir, 'quickstart');
      }
    },
  });
  chaosMs += res.runs.reduce((a, x) => a + x.wallMs, 0) - cleanMs;
  const got = await snapshotRun(dir, 'job.yaml', 'quickstart', CHAOS_SET);
  const diff = diffSnapshots(expected, got);
  divergences += diff.length;
  console.log(`pass ${attempts}: ${res.kills} kills in ${res.runs.length} runs; ${diff.length} divergences${diff.length ? ':\n  ' + diff.slice(0, 10).join('\n  ') : ''}`);
}

const perKillMs = chaosMs / Math.max(1, kills);
// Work repeated: the extra time beyond what the restarts themselves cost (a start that finds
// nothing to do), relative to the uninterrupted runs it would have taken.
const lostMs = Math.max(0, chaosMs - kills * startupMs);
const repeatedPct = (100 * lostMs) / (cleanMs * attempts);
console.log(`kills by trigger: ${JSON.stringify(triggers)}`);
console.log(`extra wall time per kill: ${perKillMs.toFixed(0)} ms, of which a restart that finds nothing to do takes ${startupMs} ms; work lost per kill ≈ ${(lostMs / Math.max(1, kills)).toFixed(0)} ms (one checkpoint interval of a training ≈ ${ckptGaps.toFixed(0)} ms)`);
console.log(`extra wall time without restart costs: ${(100 * lostMs / (cleanMs * attempts)).toFixed(1)}% of the uninterrupted runs; with them: ${((100 * chaosMs) / (cleanMs * attempts)).toFixed(1)}%`);
console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
console.log(`RESULT kills=${kills} divergences=${divergences} repeated_work_pct=${repeatedPct.toFixed(1)}`);

function checkpointGaps(dir) {
  // From the uninterrupted run's events.jsonl (millisecond times): per final training, the gaps
  // between its checkpoints; their median.
  const last = new Map();
  const gaps = [];
  for (const line of readFileSync(join(dir, 'runs/quickstart/events.jsonl'), 'utf8').split('\n')) {
    if (!line.includes('"task:checkpoint"')) continue;
    const e = JSON.parse(line);
    if (!/^train\/[^]*cycle=\d+$/.test(e.id)) continue;
    const t = Date.parse(e.time);
    if (last.has(e.id)) gaps.push(t - last.get(e.id));
    last.set(e.id, t);
  }
  gaps.sort((a, b) => a - b);
  return gaps.length ? gaps[Math.floor(gaps.length / 2)] : NaN;
}
