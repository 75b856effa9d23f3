#!/usr/bin/env node
// `pnpm bench hpo [--full] [--seeds N]`: our studies against Optuna 3.1 (Debian's /usr/bin/python3),
// side by side in the same run:
//   (a) sampler + storage overhead per trial at 100, 500 and 1,500 trials (5 floats, trivial
//       objective). Ours: real trials, every one committed to the run's LMDB store. Optuna: TPE in
//       memory (its fastest), measured on a study prefilled with add_trials up to the size (its
//       real 1,500-trial run takes minutes; --full runs it, and SQLite too).
//   (b) best value after 50, 100 and 200 trials, mean and median over 10 seeds (--seeds N), for
//       our default TPE, Optuna's TPE, our TPE with preset optuna-3.1 (Optuna 3.1's algorithm) and
//       random search, on Branin, Hartmann6, Rosenbrock-5D and "mixed". The RESULT line counts
//       the cells where our default's mean is not worse than Optuna's. heldout.mjs judges the
//       default on other functions, with more seeds.
//   (c) opening a 1,500-trial study in a fresh process and asking the next trial.
//   (d) the GP and auto samplers at 50 and 100 trials on the benchmark's functions and the
//       held-out ones (heldout-functions.mjs, heldout-new-functions.mjs, and last the conditional
//       spaces of heldout-conditional-functions.mjs: optimizerTune, pipelineTune, nestedTune),
//       --gp-seeds seeds (10), against our default TPE and Optuna 3.1's TPE and multivariate TPE
//       (gp-quality.mjs); and
//       the GP's overhead per trial at 300 trials (5 floats, LMDB run store, like (a)).
//   (e) a real objective: the real train plugin on a learnable synthetic series, each sampler at
//       30 and 60 trials over --real-seeds seeds (12; about 5 minutes) (real-objective.mjs).
// --quick runs (d) on 4 held-out functions with 3 seeds and (e) with 2 seeds, for development.
// Ends with: RESULT overhead_ms_1500=<n> optuna_overhead_ms_1500=<n> reopen_ask_ms=<n> quality_not_worse=<k>/8
//   gp_cells_better_at50=<k>/<n> gp_overhead_ms_300=<n> real_objective_gain_pct=<n>
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { definePlugin } from '@runner/core';
import { runPlugin } from '@runner/core/testing';
import { createStudy, memoryStorage } from '@runner/plugin-hpo';
import { FUNCTIONS } from './functions.mjs';
import { gpQuality } from './gp-quality.mjs';
import { HELDOUT_COND } from './heldout-conditional-functions.mjs';
import { HELDOUT } from './heldout-functions.mjs';
import { HELDOUT_NEW } from './heldout-new-functions.mjs';
import { realObjective } from './real-objective.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const FULL = args.includes('--full');
const SEEDS = Number(args[args.indexOf('--seeds') + 1]) || 10;
const QUICK = args.includes('--quick');
const GP_SEEDS = Number(args[args.indexOf('--gp-seeds') + 1]) || (QUICK ? 3 : 10);
const REAL_SEEDS = Number(args[args.indexOf('--real-seeds') + 1]) || (QUICK ? 2 : 12);
// --only a,d,e: parts to run ('a' stands for (a), (b) and (c), which share their runs; 'o' for
// the GP's overhead alone, which 'd' includes).
const SKIP = new Set(args.includes('--only') ? ['a', 'o', 'd', 'e'].filter((p) => !args[args.indexOf('--only') + 1].split(',').includes(p)) : []);
const PY = '/usr/bin/python3';
const SIZES = [100, 500, 1500];
const WINDOW = 20;
const OVERHEAD_RUNS = FULL ? 5 : 3;

if (!existsSync(PY)) {
  console.error(`${PY} not found: the benchmark runs Optuna 3.1 from Debian's python3-optuna`);
  process.exit(2);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs) => {
  const m = mean(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1);
};
const fmt = (v, d = 2) => (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(d));
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

function python(argv) {
  const r = spawnSync(PY, [join(here, 'optuna_bench.py'), ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`optuna_bench.py ${argv.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function pythonAsync(argv) {
  return new Promise((resolve, reject) => {
    const c = spawn(PY, [join(here, 'optuna_bench.py'), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`optuna_bench.py ${argv.join(' ')}: ${err}`))));
  });
}

// ---------------------------------------------------------------------------------------- (a)

const SPACE5 = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`p${i}`, { float: [-5, 5] }]));

/** N real trials against the run store (LMDB through ctx.db), timestamped as each ends. */
const overheadPlugin = definePlugin({
  name: 'hpo-bench',
  version: '1.0.0',
  schema: { type: 'object', additionalProperties: true },
  async run(ctx) {
    const { n, seed, type = 'tpe', sizes = SIZES } = ctx.options;
    const study = await createStudy({ name: 'bench', storage: ctx.db('studies'), sampler: { type, seed }, space: SPACE5, recoverRunning: 'all' });
    const stamps = new Float64Array(n);
    let i = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await study.optimize((t) => Object.values(t.params).reduce((a, v) => a + v * v, 0), { trials: n, onTrialEnd: () => (stamps[i++] = performance.now() - t0) });
    const cpu = process.cpuUsage(cpu0);
    await study.close();
    const ms = {};
    for (const N of sizes) ms[N] = (stamps[N - 1] - stamps[N - 1 - WINDOW]) / WINDOW;
    return { ms, totalMs: stamps[n - 1], cpuMsPerTrial: (cpu.user + cpu.system) / 1000 / n };
  },
});

async function ours() {
  const runs = [];
  let keepDir;
  for (let r = 0; r < OVERHEAD_RUNS; r++) {
    const res = await runPlugin(overheadPlugin, { n: 1500, seed: r + 1 });
    if (res.outcome !== 'completed') throw new Error(`overhead run failed: ${res.error?.message}`);
    runs.push(res.result);
    if (r === 0) keepDir = res.dir;
    else rmSync(res.dir, { recursive: true, force: true });
  }
  const ms = Object.fromEntries(SIZES.map((N) => [N, median(runs.map((x) => x.ms[N]))]));
  return { ms, totalS: median(runs.map((x) => x.totalMs)) / 1000, cpu: median(runs.map((x) => x.cpuMsPerTrial)), dir: keepDir };
}

// ---------------------------------------------------------------------------------------- (b)

async function ourQuality(fnName, sampler, seeds, trials, checkpoints) {
  const fn = FUNCTIONS[fnName];
  const out = {};
  for (const seed of seeds) {
    const study = await createStudy({ name: `${fnName}-${seed}`, storage: memoryStorage(), sampler: { ...sampler, seed } });
    let best = Infinity;
    const at = {};
    let k = 0;
    await study.optimize((t) => fn(t), {
      trials,
      onTrialEnd: (tr) => {
        k++;
        if (tr.state === 'COMPLETE') best = Math.min(best, tr.value);
        if (checkpoints.includes(k)) at[k] = best;
      },
    });
    await study.close();
    out[seed] = at;
  }
  return out;
}

// ---------------------------------------------------------------------------------------- (c)

function ourReopen(dir) {
  const r = spawnSync(process.execPath, [join(here, 'reopen.mjs'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reopen.mjs failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

// ---------------------------------------------------------------------------------------- main

/** Parts (a), (b) and (c): the figures of the benchmark before issue 16, unchanged. */
async function partsABC() {
  console.log('(a) sampler + storage overhead per trial: 5 floats, trivial objective, TPE, one trial at a time');
  const mine = await ours();
  const opt = python(['overhead', '--mode', 'prefill', '--storage', 'memory', '--window', String(WINDOW)]);
  const optFull = FULL ? python(['overhead', '--mode', 'real', '--storage', 'memory', '--window', String(WINDOW)]) : undefined;
  const optSql = FULL ? python(['overhead', '--mode', 'prefill', '--storage', 'sqlite', '--window', String(WINDOW)]) : undefined;
  const rows = [
    ['ours: TPE, every trial committed to LMDB (run store)', (N) => mine.ms[N]],
    ['Optuna 3.1: TPE in memory (prefilled study)', (N) => opt.ms_per_trial[N]],
    ...(optFull ? [['Optuna 3.1: TPE in memory (real trials)', (N) => optFull.ms_per_trial[N]]] : []),
    ...(optSql ? [['Optuna 3.1: TPE + SQLite (prefilled study)', (N) => optSql.ms_per_trial[N]]] : []),
  ];
  console.log(`  ${pad('ms per trial at study size', 56)}${SIZES.map((N) => lpad(N, 9)).join('')}`);
  for (const [name, f] of rows) console.log(`  ${pad(name, 56)}${SIZES.map((N) => lpad(fmt(f(N)), 9)).join('')}`);
  console.log(`  ${pad('ratio Optuna in memory / ours', 56)}${SIZES.map((N) => lpad(`${fmt(opt.ms_per_trial[N] / mine.ms[N], 1)}x`, 9)).join('')}`);
  console.log(`  ours: median of ${OVERHEAD_RUNS} runs of 1,500 real trials (window of the last ${WINDOW} trials before each size); a whole run ${fmt(mine.totalS, 1)} s, ${fmt(mine.cpu)} ms CPU per trial on average.`);
  console.log(`  Optuna: ${WINDOW} trials asked and told on a study prefilled to each size with add_trials${FULL ? '; real trials and SQLite as listed' : ' (--full adds its real 1,500-trial run and SQLite)'}.\n`);

  console.log(`(b) best value found (lower is better), mean / median over ${SEEDS} seeds`);
  const seeds = Array.from({ length: SEEDS }, (_, i) => i);
  const checkpoints = [50, 100, 200];
  const fnNames = Object.keys(FUNCTIONS);
  // Optuna's runs go in the background while ours compute (nothing here is timed).
  const optunaQ = Promise.all(fnNames.map((fn) => pythonAsync(['quality', '--fn', fn, '--seeds', seeds.join(','), '--trials', '200'])));
  const samplers = [
    ['ours TPE (default)', { type: 'tpe' }],
    ['ours TPE optuna-3.1', { type: 'tpe', preset: 'optuna-3.1' }],
    ['random', { type: 'random' }],
  ];
  const results = {};
  for (const fn of fnNames) {
    results[fn] = {};
    for (const [name, cfg] of samplers) results[fn][name] = await ourQuality(fn, cfg, seeds, 200, checkpoints);
  }
  const oq = await optunaQ;
  fnNames.forEach((fn, i) => (results[fn]['Optuna TPE'] = oq[i].best));
  const minima = { branin: 0.397887, hartmann6: -3.32237, rosenbrock5: 0, mixed: 0 };
  let notWorse = 0;
  const verdicts = [];
  for (const fn of fnNames) {
    console.log(`  ${fn} (minimum ${minima[fn]})`);
    console.log(`    ${pad('', 24)}${checkpoints.map((c) => lpad(`${c} trials: mean / median`, 30)).join('')}`);
    for (const name of ['ours TPE (default)', 'Optuna TPE', 'ours TPE optuna-3.1', 'random']) {
      const per = results[fn][name];
      const cells = checkpoints.map((c) => {
        const vals = Object.values(per).map((x) => x[c]);
        return lpad(`${fmt(mean(vals), 4)} / ${fmt(median(vals), 4)}`, 30);
      });
      console.log(`    ${pad(name, 24)}${cells.join('')}`);
    }
    for (const c of [100, 200]) {
      const xa = Object.values(results[fn]['ours TPE (default)']).map((x) => x[c]);
      const xb = Object.values(results[fn]['Optuna TPE']).map((x) => x[c]);
      const a = mean(xa);
      const b = mean(xb);
      const ok = a <= b;
      if (ok) notWorse++;
      // The standard error of the difference of the two means: seeds differ between the two
      // implementations (different generators), so a difference within ~2 s.e. is noise.
      const se = Math.sqrt(variance(xa) / xa.length + variance(xb) / xb.length);
      verdicts.push(
        `  ${pad(`${fn} @ ${c}`, 18)} ours ${lpad(fmt(a, 4), 10)}  Optuna ${lpad(fmt(b, 4), 10)}  ${ok ? 'not worse' : 'worse    '}  difference ${lpad(fmt(a - b, 4), 9)}, 2 s.e. ${lpad(fmt(2 * se, 4), 8)}${Math.abs(a - b) <= 2 * se ? ' (within noise)' : '               '}  medians ${lpad(fmt(median(xa), 4), 9)} / ${lpad(fmt(median(xb), 4), 9)}`,
      );
    }
  }
  console.log('  ours TPE (default) vs Optuna TPE, mean best value at 100 and 200 trials (medians for reference):');
  console.log(verdicts.join('\n') + '\n');

  console.log('(c) open a 1,500-trial study in a fresh process and ask the next trial (timed inside the process)');
  const reopen = [0, 1, 2].map(() => ourReopen(mine.dir));
  const sqlite = join(mkdtempSync(join(tmpdir(), 'optuna-reopen-')), 'study.db');
  python(['create', '--path', sqlite, '--n', '1500']);
  const optReopen = [0, 1, 2].map(() => python(['reopen', '--path', sqlite]));
  const ourMs = median(reopen.map((r) => r.total_ms));
  const optMs = median(optReopen.map((r) => r.total_ms));
  console.log(`  ours (LMDB run store):  ${fmt(ourMs)} ms (open ${fmt(median(reopen.map((r) => r.open_ms)))} + ask ${fmt(median(reopen.map((r) => r.ask_ms)))}); the whole process incl. Node start and imports ${fmt(median(reopen.map((r) => r.process_ms)), 0)} ms`);
  console.log(`  Optuna 3.1 (SQLite):    ${fmt(optMs)} ms (load_study ${fmt(median(optReopen.map((r) => r.open_ms)))} + ask ${fmt(median(optReopen.map((r) => r.ask_ms)))}); plus ${fmt(optReopen[0].import_ms, 0)} ms to import optuna`);
  console.log(`  median of 3; ratio ${fmt(optMs / ourMs, 1)}x\n`);
  rmSync(mine.dir, { recursive: true, force: true });
  rmSync(dirname(sqlite), { recursive: true, force: true });

  return `overhead_ms_1500=${fmt(mine.ms[1500])} optuna_overhead_ms_1500=${fmt(opt.ms_per_trial[1500])} reopen_ask_ms=${fmt(ourMs)} quality_not_worse=${notWorse}/8`;
}

/** Part (d), first half: the GP's overhead per trial at 100, 200 and 300 trials. */
async function partDOverhead() {
  console.log('(d) GP overhead per trial: 5 floats, trivial objective, every trial committed to LMDB (run store), one trial at a time');
  const runs = [];
  for (let r = 0; r < 2; r++) {
    const res = await runPlugin(overheadPlugin, { n: 300, seed: r + 1, type: 'gp', sizes: [100, 200, 300] });
    if (res.outcome !== 'completed') throw new Error(`GP overhead run failed: ${res.error?.message}`);
    runs.push(res.result);
    rmSync(res.dir, { recursive: true, force: true });
  }
  const gpMs = Object.fromEntries([100, 200, 300].map((N) => [N, median(runs.map((x) => x.ms[N]))]));
  console.log(`  ms per trial at study size 100 / 200 / 300: ${[100, 200, 300].map((N) => fmt(gpMs[N])).join(' / ')} (median of 2 runs, window of the last ${WINDOW} trials before each size)`);
  console.log('  past 300 complete trials the GP conditions on 300 of them (the best 100 and 200 drawn at random), so a trial costs about the same at 300 and at 3,000.\n');
  return `gp_overhead_ms_300=${fmt(gpMs[300])}`;
}

/** Part (d), second half: the GP and auto samplers on the benchmark's and the held-out functions. */
async function partD() {
  const heldout = QUICK ? ['hpoMixed', 'levy5', 'cnnLike', 'bowlIrrelevant'] : [...Object.keys(HELDOUT), ...Object.keys(HELDOUT_NEW), ...Object.keys(HELDOUT_COND)];
  const fns = [...Object.keys(FUNCTIONS), ...heldout];
  console.log(`(d) GP and auto against our default TPE and Optuna 3.1's TPE and multivariate TPE, at 50 and 100 trials: the benchmark's ${Object.keys(FUNCTIONS).length} functions and ${heldout.length} held-out ones`);
  const seeds = Array.from({ length: GP_SEEDS }, (_, i) => i);
  const { verdict } = await gpQuality({ fns, seeds });
  console.log('');
  return `gp_cells_better_at50=${verdict.better50}/${verdict.cells50}`;
}

/** Part (e): the real train plugin as the objective. */
async function partE() {
  console.log('(e) a real objective: the train plugin (TF.js, cpu) on a synthetic AR(1)-plus-nonlinear series, tuning lr, units, dropout, activation, batch size');
  const stats = await realObjective({ seeds: Array.from({ length: REAL_SEEDS }, (_, i) => i) });
  const at30 = Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, v[30].mean]));
  const best = Object.keys(at30).filter((k) => k !== 'random').reduce((a, b) => (at30[b] < at30[a] ? b : a));
  const gain = ((at30.tpe - at30[best]) / at30.tpe) * 100;
  console.log(`  best at 30 trials by mean: ${best}, ${fmt(gain, 1)}% below TPE's mean (${fmt(at30[best], 3)} vs ${fmt(at30.tpe, 3)})\n`);
  return `real_objective_gain_pct=${fmt(gain, 1)}`;
}

async function main() {
  const started = performance.now();
  console.log(`hpo benchmark${FULL ? ' (--full)' : ''}${QUICK ? ' (--quick)' : ''}: ours (Node ${process.version}) vs Optuna (${PY}); a shared machine, so read ratios more than absolute times.\n`);
  const parts = [];
  if (!SKIP.has('a')) parts.push(await partsABC());
  if (!SKIP.has('d')) {
    const overhead = await partDOverhead();
    parts.push(await partD(), overhead);
  } else if (!SKIP.has('o')) parts.push(await partDOverhead());
  if (!SKIP.has('e')) parts.push(await partE());
  console.log(`total ${fmt((performance.now() - started) / 1000, 0)} s`);
  console.log(`RESULT ${parts.join(' ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
