#!/usr/bin/env node
// bench/core: the runner's own overhead.
//  1. 10,000 no-op tasks (steps: 1) end to end with durable state: tasks/s, median of runs.
//     Side by side in the same run: piscina alone on the same no-op work (the floor).
//  2. Time for `runner start` to open the store, reset stale work and plan a run that already
//     holds 100,000 tasks, in a fresh process (module loading included).
// Ends with: RESULT tasks_per_s=<n> startup_100k_s=<n>
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice(7) ?? 3);
const threads = Number(args.find((a) => a.startsWith('--threads='))?.slice(10) ?? 2);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function project(spec) {
  const dir = mkdtempSync(join(tmpdir(), 'runner-bench-'));
  writeFileSync(join(dir, 'package.json'), '{}');
  writeFileSync(join(dir, 'job.yaml'), spec);
  return dir;
}

function node(script, ...rest) {
  const r = spawnSync(process.execPath, [join(here, script), ...rest], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script} failed:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const range = (n) => Array.from({ length: n }, (_, i) => i).join(', ');

console.log(`bench/core: ${threads} threads, ${runs} runs each, node ${process.version}`);

// 1. Throughput.
const tput = [];
const floor = [];
for (let i = 0; i < runs; i++) {
  const dir = project(`name: tput
matrix: { i: [${range(100)}], j: [${range(100)}] }
pool: { threads: ${threads} }
stages:
  - { id: noop, plugin: steps, options: { steps: 1, checkpointEvery: 0 } }
`);
  const r = node('throughput.mjs', join(dir, 'job.yaml'));
  tput.push(r.tasksPerS);
  floor.push(node('piscina-floor.mjs', String(threads)).tasksPerS);
  console.log(`  run ${i + 1}: runner ${r.tasksPerS.toFixed(0)} tasks/s (${r.tasks} tasks in ${r.seconds.toFixed(2)} s, all committed) | piscina alone ${floor.at(-1).toFixed(0)} tasks/s`);
  rmSync(dir, { recursive: true, force: true });
}
const tasksPerS = median(tput);
console.log(`10,000 no-op tasks end to end: median ${tasksPerS.toFixed(0)} tasks/s (min ${Math.min(...tput).toFixed(0)}, max ${Math.max(...tput).toFixed(0)}); piscina alone ${median(floor).toFixed(0)} tasks/s; ratio ${(tasksPerS / median(floor)).toFixed(2)}`);

// 2. Startup over 100k tasks: 500 symbols × 2 horizons × 100 cycles.
const symbols = Array.from({ length: 500 }, (_, i) => `S${i}`).join(', ');
const dir = project(`name: big
matrix: { symbol: [${symbols}], horizon: [1, 5] }
cycle: [${Array.from({ length: 100 }, (_, i) => i + 1).join(', ')}]
pool: { threads: ${threads} }
stages:
  - { id: work, plugin: steps, options: { steps: 10 } }
`);
const prep = node('prepare-100k.mjs', join(dir, 'job.yaml'));
console.log(`prepared a store with ${prep.tasks} tasks (${prep.completed} completed, ${prep.running} left running by a dead runner) in ${prep.seconds.toFixed(1)} s`);
const startup = [];
for (let i = 0; i < runs; i++) {
  // Put the dead runner's tasks back each time so every start has stale work to reset.
  node('prepare-100k.mjs', join(dir, 'job.yaml'), '--stale-only');
  const r = node('startup.mjs', join(dir, 'job.yaml'));
  startup.push(r.seconds);
  console.log(`  run ${i + 1}: ${r.seconds.toFixed(3)} s from process start to planned (load spec ${r.loadSpec.toFixed(3)} s, open + reset ${r.reset} stale + plan ${r.openPlan.toFixed(3)} s)`);
}
const startup100k = median(startup);
console.log(`runner start over 100,000 tasks: median ${startup100k.toFixed(3)} s`);
rmSync(dir, { recursive: true, force: true });

console.log(`RESULT tasks_per_s=${Math.round(tasksPerS)} startup_100k_s=${startup100k.toFixed(3)}`);
