// Part (d) of `pnpm bench hpo`: the GP and auto samplers at 50 and 100 trials on the benchmark's
// functions and the held-out ones, against our default TPE and Optuna 3.1's TPE and multivariate
// TPE (Debian's /usr/bin/python3, the same functions ported to Python: check-ports.mjs), with
// the mean best value and its standard error over the seeds per cell.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { bestAt } from './quality-worker.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const CHECK = [50, 100];

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const se = (xs) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1) / xs.length);
};
const f = (v) => (Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toFixed(4));

function optuna(fn, seeds, multivariate) {
  return new Promise((resolve, reject) => {
    const argv = [join(here, 'optuna_bench.py'), 'quality', '--fn', fn, '--seeds', seeds.join(','), '--trials', String(Math.max(...CHECK)), '--checkpoints', CHECK.join(','), ...(multivariate ? ['--multivariate'] : [])];
    const c = spawn('/usr/bin/python3', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => (code === 0 ? resolve(Object.values(JSON.parse(out.trim().split('\n').pop()).best)) : reject(new Error(`optuna_bench.py quality ${fn}: ${err}`))));
  });
}

/** Runs jobs on `n` worker threads; each job's result lands in results[job.key]. */
function pool(jobs, n) {
  const results = {};
  if (jobs.length === 0) return Promise.resolve(results);
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    const workers = Array.from({ length: Math.min(n, jobs.length) }, () => new Worker(join(here, 'quality-worker.mjs')));
    const feed = (w) => w.postMessage(next < jobs.length ? { ...jobs[next], id: next++ } : null);
    for (const w of workers) {
      w.on('error', reject);
      w.on('message', (m) => {
        results[jobs[m.id].key] = m.out;
        if (++done === jobs.length) resolve(results);
        feed(w);
      });
      feed(w);
    }
  });
}

/**
 * Runs every (function, sampler) cell. `auto` is our `sampler: { type: auto }`: it picks gp or
 * tpe per study, and the pick is a function of the space and the budget, so its studies are those
 * of the sampler it picks. It is run for real on the first seed of each function and compared;
 * when it matches one, that one's studies stand for the other seeds too; otherwise it runs them all.
 */
export async function gpQuality({ fns, seeds, jobs = 2, log = console.log }) {
  const trials = Math.max(...CHECK);
  // Optuna's side runs alongside (two processes at a time), nothing here is timed.
  const optunaJobs = [];
  for (const fn of fns) for (const mv of [false, true]) optunaJobs.push({ fn, mv });
  const optunaOut = {};
  const optunaDone = (async () => {
    let i = 0;
    const lane = async () => {
      while (i < optunaJobs.length) {
        const j = optunaJobs[i++];
        optunaOut[`${j.fn}|${j.mv ? 'mv' : 'tpe'}`] = await optuna(j.fn, seeds, j.mv);
      }
    };
    await Promise.all([lane(), lane()]);
  })();
  const samplers = { tpe: { type: 'tpe' }, gp: { type: 'gp' } };
  const cells = [];
  for (const fn of fns) for (const [name, sampler] of Object.entries(samplers)) cells.push({ key: `${fn}|${name}`, fn, sampler, seeds, trials, check: CHECK });
  const ours = await pool(cells, jobs);
  // auto: first seed for real, then as described above.
  const autoOf = {};
  const rerun = [];
  for (const fn of fns) {
    const first = await bestAt(fn, { type: 'auto' }, seeds[0], trials, CHECK);
    const same = ['gp', 'tpe'].find((s) => CHECK.every((c) => ours[`${fn}|${s}`][0][c] === first[c]));
    if (same) {
      ours[`${fn}|auto`] = ours[`${fn}|${same}`];
      autoOf[fn] = same;
    } else rerun.push({ key: `${fn}|auto`, fn, sampler: { type: 'auto' }, seeds, trials, check: CHECK });
  }
  Object.assign(ours, await pool(rerun, jobs));
  for (const r of rerun) autoOf[r.fn] = 'own';
  await optunaDone;

  const names = ['tpe', 'gp', 'auto', 'Optuna TPE', 'Optuna MV TPE'];
  const vals = (fn, name, c) => (name.startsWith('Optuna') ? optunaOut[`${fn}|${name === 'Optuna TPE' ? 'tpe' : 'mv'}`].map((x) => x[String(c)]) : ours[`${fn}|${name}`].map((x) => x[c]));
  log(`  mean ± s.e. of the best value over ${seeds.length} seeds (${seeds[0]}..${seeds[seeds.length - 1]}); ours: default TPE, GP, auto (its pick in brackets); "best": our best mean per cell against Optuna's TPE`);
  log(`  ${'function'.padEnd(18)}${'trials'.padStart(7)}${names.map((n) => n.padStart(21)).join('')}   best of ours vs Optuna TPE`);
  const verdict = { better: 0, notWorse: 0, worse: 0, cells: 0, gpBetter: 0, gpNotWorse: 0, autoBetter: 0, autoNotWorse: 0, cells50: 0, better50: 0, gpBetter50: 0, autoBetter50: 0 };
  const rows = [];
  for (const fn of fns) {
    for (const c of CHECK) {
      const cellVals = Object.fromEntries(names.map((n) => [n, vals(fn, n, c)]));
      const o = cellVals['Optuna TPE'];
      const cmp = (xs) => {
        const d = mean(xs) - mean(o);
        const s = Math.sqrt(se(xs) ** 2 + se(o) ** 2);
        return { notWorse: d <= 0, better: d < -2 * s, worse: d > 2 * s, d, s };
      };
      const bestName = ['tpe', 'gp', 'auto'].reduce((a, b) => (mean(cellVals[b]) < mean(cellVals[a]) ? b : a));
      const v = cmp(cellVals[bestName]);
      const g = cmp(cellVals.gp);
      const a = cmp(cellVals.auto);
      verdict.cells++;
      if (v.notWorse) verdict.notWorse++;
      if (v.better) verdict.better++;
      if (v.worse) verdict.worse++;
      if (g.better) verdict.gpBetter++;
      if (g.notWorse) verdict.gpNotWorse++;
      if (a.better) verdict.autoBetter++;
      if (a.notWorse) verdict.autoNotWorse++;
      if (c === 50) {
        verdict.cells50++;
        if (v.better) verdict.better50++;
        if (g.better) verdict.gpBetter50++;
        if (a.better) verdict.autoBetter50++;
      }
      const label = `${bestName} ${v.better ? 'better (>2 s.e.)' : v.notWorse ? 'not worse' : v.worse ? 'WORSE (>2 s.e.)' : 'worse (within 2 s.e.)'}`;
      rows.push({ fn, c, best: bestName, ...Object.fromEntries(names.map((n) => [n, { mean: mean(cellVals[n]), se: se(cellVals[n]) }])) });
      log(`  ${(c === CHECK[0] ? `${fn}${fn in autoOf ? ` [${autoOf[fn]}]` : ''}` : '').padEnd(18)}${String(c).padStart(7)}${names.map((n) => `${f(mean(cellVals[n]))} ± ${f(se(cellVals[n]))}`.padStart(21)).join('')}   ${label}`);
    }
  }
  log(`  best of ours vs Optuna TPE: not worse in ${verdict.notWorse}/${verdict.cells} cells, better by > 2 s.e. in ${verdict.better}/${verdict.cells} (at 50 trials: ${verdict.better50}/${verdict.cells50}), worse by > 2 s.e. in ${verdict.worse}`);
  log(`  GP alone: not worse in ${verdict.gpNotWorse}/${verdict.cells}, better by > 2 s.e. in ${verdict.gpBetter} (at 50: ${verdict.gpBetter50}/${verdict.cells50}); auto: not worse in ${verdict.autoNotWorse}/${verdict.cells}, better in ${verdict.autoBetter} (at 50: ${verdict.autoBetter50}/${verdict.cells50})`);
  return { verdict, rows, autoOf };
}
