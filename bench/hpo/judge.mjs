#!/usr/bin/env node
// `node bench/hpo/judge.mjs raw1.json [raw2.json ...] [--base default]`: the adoption rule for a
// TPE change (issue 16), on raw results written by `heldout.mjs --out`. Runs over disjoint seed
// sets of the same variants are pooled per cell (more seeds, smaller standard errors). For each
// variant against the base: the cells where its mean is worse, and better, by more than two
// standard errors, listed with their means ± s.e. (--show fn,fn: every cell of those), and the
// count of cells where its mean is not
// worse. A variant is adoptable when no cell is worse beyond 2 s.e. and the lock-in / narrowing
// functions improve.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const baseName = args.includes('--base') ? args[args.indexOf('--base') + 1] : 'default';
const files = args.filter((a, i) => a.endsWith('.json') && args[i - 1] !== '--base');
// --show a,b: also print every cell of these functions, significant or not.
const show = new Set(args.includes('--show') ? args[args.indexOf('--show') + 1].split(',') : []);
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const pooled = {};
for (const r of runs) {
  for (const [name, byFn] of Object.entries(r.results)) {
    pooled[name] ??= {};
    for (const [fn, rows] of Object.entries(byFn)) (pooled[name][fn] ??= []).push(...rows);
  }
}
const check = runs[0].check;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const se = (xs) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1) / xs.length);
};
const f = (v) => (Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toFixed(4));
const base = pooled[baseName];
console.log(`pooled ${files.length} run(s): ${files.join(', ')}; base ${baseName}`);
for (const [name, byFn] of Object.entries(pooled)) {
  if (name === baseName) continue;
  const worse = [];
  const better = [];
  let notWorse = 0;
  let cells = 0;
  for (const fn of Object.keys(byFn)) {
    if (!base[fn]) continue;
    for (const c of check) {
      const a = byFn[fn].map((r) => r[c]);
      const b = base[fn].map((r) => r[c]);
      const d = mean(a) - mean(b);
      const s = Math.sqrt(se(a) ** 2 + se(b) ** 2);
      cells++;
      if (d <= 0) notWorse++;
      const row = `${fn}@${c}: ${f(mean(a))} ± ${f(se(a))} vs ${f(mean(b))} ± ${f(se(b))} (n=${a.length})`;
      if (show.has(fn)) console.log(`  ${name.padEnd(12)} ${row}${d > 2 * s ? '  WORSE' : d < -2 * s ? '  better' : ''}`);
      if (d > 2 * s) worse.push(row);
      if (d < -2 * s) better.push(row);
    }
  }
  console.log(`\n${name}: mean not worse in ${notWorse}/${cells}; worse by > 2 s.e. in ${worse.length}, better in ${better.length}`);
  for (const r of worse) console.log(`  WORSE  ${r}`);
  for (const r of better) console.log(`  better ${r}`);
}
