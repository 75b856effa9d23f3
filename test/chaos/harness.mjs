/**
 * The chaos harness: run `runner start` again and again under SIGKILL (and friends) until it
 * completes, then compare everything the run produced with an uninterrupted run. Shared by the
 * CI suite (test/chaos/*.test.ts, a short schedule) and `pnpm bench chaos` (a long one).
 *
 * Kills are triggered by what the runner prints (`-v` prints every checkpoint), never by a clock:
 * a busy machine changes when they land, not whether they land.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const RUNNER_BIN = join(REPO, 'packages/core/bin/runner.js');

/** Small seeded PRNG (mulberry32): the same seed gives the same kill schedule. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Kill triggers, one per run of `runner start`:
 * - `{ kind: 'startup' }`: as soon as the runner prints its first line (it is planning, resetting
 *   stale tasks, starting threads);
 * - `{ kind: 'line', match: RegExp, nth: n }`: right after the n-th line that matches, e.g. the
 *   n-th `checkpoint` line, or `is retried with the same parameters` (inside a retried trial);
 * - `{ kind: 'lines', nth: n }`: after the n-th line of any kind (a random moment);
 * - `null`: let it finish.
 * `signal` defaults to SIGKILL.
 */
export function startRunner(cwd, args, env = {}) {
  const child = spawn(process.execPath, [RUNNER_BIN, 'start', ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set();
  const onData = (d) => {
    const text = d.toString();
    out += text;
    for (const l of listeners) l(text);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const started = Date.now();
  const done = new Promise((res) => child.on('close', (code, signal) => res({ code, signal, output: out, wallMs: Date.now() - started })));
  return { child, done, output: () => out, onText: (f) => listeners.add(f) };
}

/** Resolves when `trigger` fires on the runner's output (or never, if the run ends first). */
function armTrigger(run, trigger) {
  if (!trigger) return;
  let seen = 0;
  let buffer = '';
  let fired = false;
  const fire = () => {
    if (fired) return;
    fired = true;
    run.child.kill(trigger.signal ?? 'SIGKILL');
  };
  run.onText((text) => {
    if (fired) return;
    buffer += text;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (trigger.kind === 'startup') return fire();
      if (trigger.kind === 'lines' && ++seen >= trigger.nth) return fire();
      if (trigger.kind === 'line' && trigger.match.test(line) && ++seen >= trigger.nth) return fire();
    }
  });
}

/**
 * Runs `runner start <args>` until it exits 0, killing run i with `schedule(i)`'s trigger.
 * Returns what happened: kills (runs ended by our signal), exits, and each run's wall time.
 */
export async function runUntilDone({ cwd, args, schedule, env = {}, maxRuns = 400, onRun }) {
  const runs = [];
  for (let i = 0; i < maxRuns; i++) {
    const trigger = schedule(i);
    const run = startRunner(cwd, args, env);
    armTrigger(run, trigger);
    const r = await run.done;
    const killed = r.signal !== null;
    runs.push({ trigger: trigger ? describe(trigger) : 'none', code: r.code, signal: r.signal, killed, wallMs: r.wallMs });
    onRun?.(runs.at(-1), r.output);
    if (!killed && r.code === 0) return { runs, kills: runs.filter((x) => x.killed).length, output: r.output };
    if (!killed && r.code !== 0 && r.code !== 130) {
      const err = new Error(`runner start exited ${r.code} after ${runs.length} runs:\n${r.output.slice(-4000)}`);
      err.runs = runs;
      throw err;
    }
  }
  throw new Error(`not complete after ${maxRuns} runs`);
}

function describe(t) {
  if (t.kind === 'line') return `line ${t.match} #${t.nth}`;
  if (t.kind === 'lines') return `line #${t.nth}`;
  return t.kind;
}

/** Runs a `runner <cmd> ... --json` (or other format) command and parses its stdout. */
export function cliJson(cwd, args, env = {}) {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [RUNNER_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      if (code !== 0) return rej(new Error(`runner ${args.join(' ')} exited ${code}: ${err}`));
      try {
        res(JSON.parse(out));
      } catch (e) {
        rej(new Error(`runner ${args.join(' ')}: not JSON: ${out.slice(0, 500)}`));
      }
    });
  });
}

function sha(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

function walk(root, dir = root, out = {}) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(root, p, out);
    else if (e.isFile()) out[relative(root, p)] = p;
  }
  return out;
}

/** Keys of results and metadata that legitimately differ between two runs of the same spec. */
const VOLATILE = /^(resumedAtBar|checkpointing|samplesPerSecond|trainSeconds|barsPerSecond|prepareSeconds|loopSeconds|latency|checkpoints|time|startedAt|finishedAt|updatedAt|createdAt|retrievedAt|fetchedAt|runMs|durationMs|elapsedMs|seconds|wallMs|attempts|failures|owner|notes|resumed|resumedFrom|resumedAt|bytesFetched|skipped|lastCheckpoint|progress|datetimeStart|datetimeComplete|duration|retrieved|fetched)$/;

/** A deep copy of `v` without volatile keys, with absolute run paths made relative. */
export function stable(v, root) {
  if (Array.isArray(v)) return v.map((x) => stable(x, root));
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) if (!VOLATILE.test(k)) out[k] = stable(v[k], root);
    return out;
  }
  if (typeof v === 'string' && root && v.startsWith(root)) return '<dir>' + v.slice(root.length);
  return v;
}

/**
 * Everything a run produced that must not depend on how often it was killed:
 * - every artifact file's sha256 (models, histories, normalisers, trade logs, equity, reports),
 * - every downloaded series file's sha256 (and its manifest without retrieval times),
 * - every task's state and result (without timings), child tasks included,
 * - every HPO study's trials (numbers, states, parameters, values, intermediate values),
 * - the status counts.
 */
export async function snapshotRun(cwd, specFile, name, extraArgs = []) {
  const runDir = join(cwd, 'runs', name);
  const files = {};
  for (const [rel, p] of Object.entries(walk(join(runDir, 'artifacts')))) {
    // Checkpoint payloads are how a run got there, not what it produced.
    if (/(^|\/)(checkpoints?|tmp)\//.test(rel) || rel.endsWith('.tmp')) continue;
    if (/report\.html$/.test(rel)) continue; // reports embed their generation time
    files['artifacts/' + rel] = sha(readFileSync(p));
  }
  for (const [rel, p] of Object.entries(walk(join(cwd, 'data')))) {
    if (rel.endsWith('.meta.json')) files['data/' + rel] = sha(JSON.stringify(stable(JSON.parse(readFileSync(p, 'utf8')), cwd)));
    else files['data/' + rel] = sha(readFileSync(p));
  }
  const tasks = await cliJson(cwd, ['tasks', specFile, ...extraArgs, '--json']);
  const results = {};
  for (const t of tasks) results[t.id] = stable({ state: t.state, result: t.result, error: t.error ? t.error.code ?? t.error.message : null }, cwd);
  const status = await cliJson(cwd, ['status', specFile, ...extraArgs, '--json']);
  let studies = null;
  if (tasks.some((t) => t.plugin === 'hpo' || t.stage === 'hpo')) {
    const raw = await cliJson(cwd, ['study', specFile, 'hpo/*', ...extraArgs, '--format', 'json']);
    studies = stable(raw, cwd);
    // A pruned trial's training may finish its last epoch before the cancel reaches it, and then
    // writes model files, in interrupted and uninterrupted runs alike (a known limit, docs/hpo.md):
    // only complete trials' files are compared.
    for (const st of raw.studies ?? []) {
      for (const tr of st.trials ?? []) {
        if (tr.state === 'COMPLETE') continue;
        const prefix = `artifacts/${st.task}/trial=${tr.number}/`;
        for (const f of Object.keys(files)) if (f.startsWith(prefix)) delete files[f];
      }
    }
  }
  return { files, results, studies, counts: status.tasks };
}

/** Differences between two snapshots, as readable lines (empty: identical). */
export function diffSnapshots(a, b, path = '') {
  const out = [];
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) {
    out.push(`${path}: ${short(a)} ≠ ${short(b)}`);
    return out;
  }
  if (a && typeof a === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (!(k in a)) out.push(`${path}/${k}: missing in the first`);
      else if (!(k in b)) out.push(`${path}/${k}: missing in the second`);
      else out.push(...diffSnapshots(a[k], b[k], `${path}/${k}`));
    }
    return out;
  }
  if (!Object.is(a, b)) out.push(`${path}: ${short(a)} ≠ ${short(b)}`);
  return out;
}

function short(v) {
  const s = JSON.stringify(v);
  return s && s.length > 120 ? s.slice(0, 117) + '...' : s;
}

/** A reboot: every runner is gone, and so are the lock files a dead machine leaves behind. */
export function removeLockFiles(cwd, name) {
  const runDir = join(cwd, 'runs', name);
  for (const f of existsSync(runDir) ? readdirSync(runDir) : []) if (f.endsWith('-lock') || f.endsWith('.lock')) rmSync(join(runDir, f), { force: true });
}

export function sizeOf(p) {
  return existsSync(p) ? statSync(p).size : 0;
}
