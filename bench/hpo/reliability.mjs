#!/usr/bin/env node
// `node bench/hpo/reliability.mjs [--pool 50] [--seed-base 100] [--optuna-json DIR]`
//
// How reliable is the benchmark's quality comparison? `pnpm bench hpo` compares the mean best
// value of 10 seeds of ours against 10 seeds of Optuna's TPE per (function, trials) cell. This
// runs a pool of seeds of each (Optuna 3.1 side by side, from /usr/bin/python3), then draws many
// 10-seed sets from each pool and reports, per cell, how often ours comes out not worse, and how
// often all 8 cells do. Means and medians of the pools are printed too.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStudy, memoryStorage } from '@runner/plugin-hpo';
import { FUNCTIONS } from './functions.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const get = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const POOL = Number(get('--pool', 50));
const BASE = Number(get('--seed-base', 100));
const DRAWS = 20000;
const CELLS = [100, 200];
const seeds = Array.from({ length: POOL }, (_, i) => BASE + i);
const fns = Object.keys(FUNCTIONS);

function optuna(fn) {
  const dir = get('--optuna-json');
  if (dir) return Promise.resolve(JSON.parse(readFileSync(join(dir, `optpool_${fn}.json`), 'utf8')).best);
  return new Promise((resolve, reject) => {
    const c = spawn('/usr/bin/python3', [join(here, 'optuna_bench.py'), 'quality', '--fn', fn, '--seeds', seeds.join(','), '--trials', '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()).best) : reject(new Error(`optuna_bench.py ${fn} exited ${code}`))));
  });
}

async function ours(fn, sampler) {
  const out = {};
  for (const seed of seeds) {
    const study = await createStudy({ name: `${fn}-${seed}`, storage: memoryStorage(), sampler: { ...sampler, seed } });
    let best = Infinity;
    let k = 0;
    const at = {};
    await study.optimize((t) => FUNCTIONS[fn](t), { trials: 200, onTrialEnd: (tr) => { k++; if (tr.state === 'COMPLETE') best = Math.min(best, tr.value); if (CELLS.includes(k)) at[k] = best; } });
    out[seed] = at;
  }
  return out;
}

// A small seeded generator for the resampling (xorshift32).
let s = 0x9e3779b9;
const rand = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs) => { const q = [...xs].sort((a, b) => a - b); const m = q.length >> 1; return q.length % 2 ? q[m] : (q[m - 1] + q[m]) / 2; };
const draw10 = (xs) => { let t = 0; for (let i = 0; i < 10; i++) t += xs[Math.floor(rand() * xs.length)]; return t / 10; };

const optunaRuns = fns.map((fn) => optuna(fn));
const variants = [['default', { type: 'tpe' }], ['optuna-3.1', { type: 'tpe', preset: 'optuna-3.1' }]];
const mine = {};
for (const [name, cfg] of variants) { mine[name] = {}; for (const fn of fns) mine[name][fn] = await ours(fn, cfg); }
const opt = Object.fromEntries((await Promise.all(optunaRuns)).map((b, i) => [fns[i], b]));

console.log(`pools of ${POOL} seeds each (${BASE}..${BASE + POOL - 1}); ${DRAWS} draws of 10 seeds per side`);
for (const [name] of variants) {
  let all = 0;
  const per = {};
  const pools = {};
  for (const fn of fns) for (const c of CELLS) pools[`${fn}@${c}`] = [Object.values(mine[name][fn]).map((x) => x[c]), Object.values(opt[fn]).map((x) => x[String(c)])];
  for (const k of Object.keys(pools)) per[k] = 0;
  for (let d = 0; d < DRAWS; d++) {
    let ok = true;
    for (const [k, [a, b]] of Object.entries(pools)) { if (draw10(a) <= draw10(b)) per[k]++; else ok = false; }
    if (ok) all++;
  }
  console.log(`\nours ${name} vs Optuna 3.1: P(10-seed mean not worse) per cell, pool mean / median (ours | Optuna)`);
  for (const [k, [a, b]] of Object.entries(pools)) console.log(`  ${k.padEnd(16)} ${(per[k] / DRAWS).toFixed(3)}   ${mean(a).toPrecision(4)} / ${median(a).toPrecision(4)}  |  ${mean(b).toPrecision(4)} / ${median(b).toPrecision(4)}`);
  const expected = Object.values(per).reduce((t, v) => t + v / DRAWS, 0);
  console.log(`  all 8 cells not worse in one draw: ${(all / DRAWS).toFixed(3)}; expected cells not worse: ${expected.toFixed(2)}/8`);
}
