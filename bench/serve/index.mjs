#!/usr/bin/env node
// bench/serve: how fast people see a run.
//  1. `runner serve`'s task list of a 10,000-task run (GET /api/runs/<run>/tasks?limit=10000, the
//     whole list as JSON) and its default page (limit 1000), p50/p95 over many requests on one
//     keep-alive connection, from a server in its own process. Reference in the same run: the
//     same list through the CLI, `runner tasks <spec> --json` (a process per call).
//  2. `runner report` of a run with a few hundred HPO trials (the hpo example's synthetic trainer,
//     one study of --trials trials), against `runner study <spec> --format json` on the same run.
// Ends with: RESULT tasks_10k_p50_ms=<n> tasks_10k_p95_ms=<n> page_p50_ms=<n> cli_tasks_json_ms=<n> report_ms=<n> study_json_ms=<n> trials=<n>
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../..');
const bin = join(repo, 'packages/core/bin/runner.js');
const arg = (k, d) => Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d);
const side = arg('side', 100); // side × side tasks
const requests = arg('requests', 50);
const trials = arg('trials', 300);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const r1 = (x) => Math.round(x * 10) / 10;

function project(files) {
  const dir = mkdtempSync(join(tmpdir(), 'runner-bench-serve-'));
  writeFileSync(join(dir, 'package.json'), '{}');
  for (const [k, v] of Object.entries(files)) writeFileSync(join(dir, k), v);
  return dir;
}

function cli(dir, ...args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0) throw new Error(`runner ${args.join(' ')} exited ${r.status}\n${r.stderr}`);
  return { ms: performance.now() - t0, stdout: r.stdout };
}

const range = (n) => Array.from({ length: n }, (_, i) => i).join(', ');
console.log(`bench/serve: ${side * side} tasks, ${requests} requests; report of ${trials} trials; node ${process.version}`);

// 1. The task list.
const dir = project({
  'job.yaml': `name: big
matrix: { i: [${range(side)}], j: [${range(side)}] }
pool: { threads: 2 }
stages:
  - { id: noop, plugin: steps, options: { steps: 1, checkpointEvery: 0 } }
`,
});
const made = cli(dir, 'start', 'job.yaml', '-q');
console.log(`run of ${side * side} tasks made in ${r1(made.ms / 1000)} s`);

const server = spawn(process.execPath, [bin, 'serve', '--port', '0', '--runs', join(dir, 'runs')], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /dashboard (http:\/\/[^/\s]+)\//.exec(out);
    if (m) resolve(m[1]);
  });
  server.on('exit', (c) => reject(new Error(`serve exited ${c}`)));
});
async function time(path) {
  const t0 = performance.now();
  const r = await fetch(url + path);
  const body = await r.json();
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
  return { ms, body };
}
const first = await time(`/api/runs/big/tasks?limit=${side * side}`);
if (first.body.total !== side * side) throw new Error(`expected ${side * side} tasks, got ${first.body.total}`);
console.log(`first full list (cold): ${r1(first.ms)} ms, ${first.body.tasks.length} tasks`);
const full = [];
const page = [];
for (let i = 0; i < requests; i++) {
  full.push((await time(`/api/runs/big/tasks?limit=${side * side}`)).ms);
  page.push((await time('/api/runs/big/tasks')).ms);
}
server.kill('SIGTERM');
const cliMs = [];
for (let i = 0; i < 3; i++) cliMs.push(cli(dir, 'tasks', 'job.yaml', '--json').ms);
console.log(`GET tasks (all ${side * side}): p50 ${r1(pct(full, 50))} ms, p95 ${r1(pct(full, 95))} ms`);
console.log(`GET tasks (page of 1000): p50 ${r1(pct(page, 50))} ms, p95 ${r1(pct(page, 95))} ms`);
console.log(`reference, runner tasks --json (a process per call): median ${r1(pct(cliMs, 50))} ms`);

// 2. The report of a study with a few hundred trials.
const hpoDir = project({
  'hpo.yaml': `name: study
plugins: [${join(repo, 'packages/plugins/hpo/examples/synthetic-trainer.mjs')}]
pool: { threads: 2 }
stages:
  - id: hpo
    plugin: hpo
    options:
      trials: ${trials}
      parallel: 2
      sampler: { type: tpe, seed: 7 }
      pruner: { type: median, startupTrials: 5, warmupSteps: 2 }
      space:
        lr: { float: [1.0e-4, 1.0e-1], log: true }
        units: { int: [16, 256], step: 16 }
        activation: { choice: [relu, tanh] }
      objective: { stage: train, metric: val_loss, options: { epochs: 8 } }
  - { id: train, plugin: synthetic-trainer, needs: [hpo], options: { epochs: 20, epochMs: 1 } }
`,
});
const study = cli(hpoDir, 'start', 'hpo.yaml', '-q');
console.log(`study of ${trials} trials made in ${r1(study.ms / 1000)} s`);
const reports = [];
const exports = [];
for (let i = 0; i < 3; i++) {
  reports.push(cli(hpoDir, 'report', 'hpo.yaml').ms);
  exports.push(cli(hpoDir, 'study', 'hpo.yaml', '--format', 'json').ms);
}
console.log(`runner report (${trials} trials, process included): median ${r1(pct(reports, 50))} ms`);
console.log(`reference, runner study --format json: median ${r1(pct(exports, 50))} ms`);
console.log(
  `RESULT tasks_10k_p50_ms=${r1(pct(full, 50))} tasks_10k_p95_ms=${r1(pct(full, 95))} page_p50_ms=${r1(pct(page, 50))} cli_tasks_json_ms=${r1(pct(cliMs, 50))} report_ms=${r1(pct(reports, 50))} study_json_ms=${r1(pct(exports, 50))} trials=${trials}`,
);
