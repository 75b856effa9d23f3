#!/usr/bin/env node
// `node bench/hpo/heldout.mjs [--seeds 30] [--seed-base 1000] [--jobs 2] [--fns a,b | mixed | continuous | new | fresh | cond | judge | tuning | bench] [--variants JSON] [--out raw.json]`
//
// Judges TPE changes on test functions the benchmark does NOT use (heldout-functions.mjs), with
// more seeds than the benchmark: the default TPE, Optuna 3.1's (preset optuna-3.1, the same
// algorithm as Optuna's TPESampler, kernels checked against it to 1e-9), and the default with
// each of its parts taken out. Every run is a real study (memory storage) with the sampler
// configured as a job spec would (createStudy({ sampler: { type: 'tpe', seed, ...variant } })).
//
// Prints, per function, the mean / median of the best value after 100 and 200 trials, then a
// summary against optuna-3.1: in how many of the (function × {100, 200}) cells the variant's mean
// is not worse, in how many it is better or worse by more than two standard errors, and the mean
// probability that one of its runs ends below one of optuna-3.1's (0.5: no difference). Then the
// same for each ablation against the default: what taking that part out costs.
import { writeFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { createStudy, memoryStorage } from '@runner/plugin-hpo';
import { FUNCTIONS } from './functions.mjs';
import { HELDOUT, HELDOUT_MIXED } from './heldout-functions.mjs';
import { HELDOUT_NEW } from './heldout-new-functions.mjs';
import { TUNING } from './tuning-functions.mjs';
import { HELDOUT_FRESH } from './heldout-fresh-functions.mjs';
import { HELDOUT_COND } from './heldout-conditional-functions.mjs';

// Every function by name; --fns picks (the default: the original held-out set).
const ALL = { ...FUNCTIONS, ...HELDOUT, ...HELDOUT_NEW, ...HELDOUT_FRESH, ...HELDOUT_COND, ...TUNING };

const CHECK = process.argv.includes('--check') ? process.argv[process.argv.indexOf('--check') + 1].split(',').map(Number) : [100, 200];
const VARIANTS = [
  ['optuna-3.1', { preset: 'optuna-3.1' }],
  ['default', {}],
  ['default, random startup', { startup: 'random' }],
  ['default, plain weights', { weighting: 'optuna' }],
  ['default, clip exponent 1', { magicClipExponent: 1 }],
  ['default, no univariate share', { univariateShare: 0 }],
  ['default, Optuna bandwidth', { bandwidth: 'optuna' }],
  ['default, univariate', { multivariate: false }],
];

async function runOne(sampler, fnName, seed, trials, check = CHECK) {
  const fn = ALL[fnName];
  const study = await createStudy({ name: `${fnName}-${seed}`, storage: memoryStorage(), sampler: { type: 'tpe', ...sampler, seed } });
  let best = Infinity;
  let k = 0;
  const at = {};
  await study.optimize((t) => fn(t), {
    trials,
    onTrialEnd: (tr) => {
      k++;
      if (tr.state === 'COMPLETE') best = Math.min(best, tr.value);
      if (check.includes(k)) at[k] = best;
    },
  });
  await study.close();
  return at;
}

if (!isMainThread) {
  parentPort.on('message', async (job) => {
    if (job === null) process.exit(0);
    const out = [];
    for (const seed of job.seeds) out.push(await runOne(job.sampler, job.fn, seed, job.trials, job.check));
    parentPort.postMessage({ id: job.id, out });
  });
} else {
  const args = process.argv.slice(2);
  const get = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
  const variants = args.includes('--variants') ? JSON.parse(get('--variants')) : VARIANTS;
  // --fns a,b (names), or 'mixed' for the mixed categorical/continuous ones, 'continuous' for the rest.
  const fnArg = get('--fns', 'all');
  const fns =
    fnArg === 'all' ? Object.keys(HELDOUT)
    : fnArg === 'mixed' ? Object.keys(HELDOUT_MIXED)
    : fnArg === 'continuous' ? Object.keys(HELDOUT).filter((n) => !(n in HELDOUT_MIXED))
    : fnArg === 'new' ? Object.keys(HELDOUT_NEW)
    : fnArg === 'tuning' ? Object.keys(TUNING)
    : fnArg === 'fresh' ? Object.keys(HELDOUT_FRESH)
    : fnArg === 'cond' ? Object.keys(HELDOUT_COND)
    : fnArg === 'judge' ? [...Object.keys(FUNCTIONS), ...Object.keys(HELDOUT), ...Object.keys(HELDOUT_NEW), ...Object.keys(HELDOUT_FRESH)]
    : fnArg === 'bench' ? Object.keys(FUNCTIONS)
    : fnArg.split(',');
  const nSeeds = Number(get('--seeds', 30));
  const seedBase = Number(get('--seed-base', 1000));
  const jobsN = Math.max(1, Number(get('--jobs', 2)));
  const trials = Math.max(...CHECK);
  const seeds = Array.from({ length: nSeeds }, (_, i) => seedBase + i);
  const jobs = [];
  for (const [vi, [, sampler]] of variants.entries()) for (const fn of fns) jobs.push({ id: jobs.length, vi, fn, sampler, seeds, trials, check: CHECK });
  const results = variants.map(() => ({}));
  const t0 = performance.now();
  console.log(`TPE on held-out functions (not in the benchmark): ${fns.length} functions x ${variants.length} variants x ${nSeeds} seeds (${seedBase}..${seedBase + nSeeds - 1}), ${trials} trials each, ${jobsN} worker threads`);
  await new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    const workers = Array.from({ length: jobsN }, () => new Worker(fileURLToPath(import.meta.url)));
    const feed = (w) => w.postMessage(next < jobs.length ? jobs[next++] : null);
    for (const w of workers) {
      w.on('error', reject);
      w.on('message', (m) => {
        const j = jobs[m.id];
        results[j.vi][j.fn] = m.out;
        if (++done === jobs.length) resolve();
        feed(w);
      });
      feed(w);
    }
  });
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const sd = (xs) => {
    const m = mean(xs);
    return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  };
  // P(a run of `a` ends below a run of `b`), ties counted half.
  const below = (a, b) => {
    let w = 0;
    for (const x of a) for (const y of b) w += x < y ? 1 : x === y ? 0.5 : 0;
    return w / (a.length * b.length);
  };
  const f = (v) => (Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toFixed(4));
  const width = Math.max(...variants.map(([n]) => n.length)) + 2;
  const vals = (vi, fn, c) => results[vi][fn].map((r) => r[c]);
  for (const fn of fns) {
    console.log(`\n  ${fn}${' '.repeat(Math.max(1, width - fn.length))}${CHECK.map((c) => `${c} trials: mean / median`.padStart(30)).join('')}`);
    for (const [vi, [name]] of variants.entries()) console.log(`    ${name.padEnd(width)}${CHECK.map((c) => `${f(mean(vals(vi, fn, c)))} / ${f(median(vals(vi, fn, c)))}`.padStart(30)).join('')}`);
  }
  const compare = (vi, bi) => {
    const s = { notWorse: 0, better: 0, worse: 0, p: [] };
    for (const fn of fns) {
      for (const c of CHECK) {
        const a = vals(vi, fn, c);
        const b = vals(bi, fn, c);
        const d = mean(a) - mean(b);
        const se = Math.sqrt(sd(a) ** 2 / a.length + sd(b) ** 2 / b.length);
        if (d <= 0) s.notWorse++;
        if (d < -2 * se) s.better++;
        if (d > 2 * se) s.worse++;
        s.p.push(below(a, b));
      }
    }
    return s;
  };
  const cells = fns.length * CHECK.length;
  const line = (name, s) => `    ${name.padEnd(width)}${`${s.notWorse}/${cells}`.padStart(10)}${String(s.better).padStart(10)}${String(s.worse).padStart(10)}${mean(s.p).toFixed(3).padStart(12)}`;
  const head = `    ${''.padEnd(width)}${'not worse'.padStart(10)}${'better'.padStart(10)}${'worse'.padStart(10)}${'P(below)'.padStart(12)}`;
  const base = variants.findIndex(([n]) => n === 'optuna-3.1');
  const def = variants.findIndex(([n]) => n === 'default');
  if (base >= 0) {
    console.log(`\n  against optuna-3.1, mean best value per (function x {${CHECK.join(', ')}} trials) cell; better/worse: by more than 2 standard errors`);
    console.log(head);
    for (const [vi, [name]] of variants.entries()) if (vi !== base) console.log(line(name, compare(vi, base)));
  }
  if (def >= 0) {
    console.log(`\n  the default against each ablation (what taking that part out costs; "not worse" = cells where the default's mean is not worse)`);
    console.log(head);
    for (const [vi, [name]] of variants.entries()) if (vi !== def && vi !== base) console.log(line(`vs ${name}`, compare(def, vi)));
  }
  // --out FILE: the raw best values (variant → function → per seed {checkpoint: best}) for judge.mjs.
  if (args.includes('--out')) writeFileSync(get('--out'), JSON.stringify({ seeds, check: CHECK, variants: variants.map(([n, v]) => [n, v]), results: Object.fromEntries(variants.map(([n], vi) => [n, results[vi]])) }));
  console.log(`\n  ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  if (base >= 0 && def >= 0) {
    const s = compare(def, base);
    console.log(`HELDOUT default_vs_optuna31 not_worse=${s.notWorse}/${cells} better_2se=${s.better} worse_2se=${s.worse} p_below=${mean(s.p).toFixed(3)} seeds=${nSeeds}`);
  }
  process.exit(0);
}
