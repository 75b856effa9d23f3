#!/usr/bin/env node
// bench/shards: what sharding buys on one machine, and what a snapshot of a big store costs.
//  1. A quick-start-like workload (synthetic download per symbol → train per symbol × horizon →
//     a fan-in report), unsharded in one process with 1 thread (the anchor) and with 2 threads,
//     against 2 shards as 2 processes with 1 thread each, followed by `runner gather`. Wall time
//     from spawning the processes to the fan-in done; the results are checked to be identical.
//  2. One snapshot (LMDB's live copy + manifest with checksums, to a "shared" directory) and one
//     restore (verify + copy + rename) of a store holding 100,000 tasks; the anchor is a plain
//     `cp` of the same store file.
// Usage: pnpm bench shards [--epochs 20] [--bars 6000] [--quick]
// Ends with: RESULT shard2_speedup=<n> snapshot_100k_ms=<n> restore_100k_ms=<n>
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadJobSpec, RunStore } from '@runner/core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const bin = join(repo, 'packages', 'core', 'bin', 'runner.js');
const { takeSnapshot, restoreSnapshot } = await import(join(repo, 'packages', 'core', 'dist', 'shard', 'snapshot.js'));
const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '20' },
    bars: { type: 'string', default: '6000' },
    quick: { type: 'boolean', default: false },
  },
});
const epochs = args.quick ? 2 : Number(args.epochs);
const bars = args.quick ? 1200 : Number(args.bars);

// Two symbols hash to each of 2 shards, so the shards are balanced (see docs/scale-out.md).
const spec = `name: shardbench
matrix: { symbol: [AAPL, MSFT, AMZN, META], horizon: [1, 5] }
pool: { threads: 1 }
stages:
  - id: download
    plugin: download
    per: [symbol]
    options:
      source: { type: synthetic, interval: 1h, start: 2024-01-01, bars: ${bars}, seed: 7 }
  - id: train
    plugin: train
    needs: [download]
    options:
      data:
        from: download
        features: [{ returns: [1, 5, 20] }, { smaRatio: [10, 50] }, { rsi: 14 }, { volatility: 20 }, { volumeZ: 20 }]
        label: { forwardReturn: horizon }
        split: { val: 0.2 }
      model:
        layers:
          - dense: { units: 32, activation: relu }
          - dense: { units: 1 }
      optimizer: { adam: { lr: 0.001 } }
      loss: mse
      epochs: ${epochs}
      batchSize: 128
      checkpointEvery: 5
      backend: auto
      seed: 1
  - id: report
    plugin: steps
    needs: [train]
    per: []
    options: { steps: 10, stepMs: 20 }
`;

function project() {
  const dir = mkdtempSync(join(tmpdir(), 'runner-bench-shards-'));
  // Inside the repository's workspace would not matter: built-in plugins resolve from the core.
  writeFileSync(join(dir, 'package.json'), '{}');
  writeFileSync(join(dir, 'job.yaml'), spec);
  return dir;
}

function run(dir, argv, env = {}) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [bin, ...argv], { cwd: dir, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`runner ${argv.join(' ')} exited ${code}:\n${out}`))));
  });
}

// Results without what varies from run to run (timings, steps redone, when a file was fetched),
// with the project directory written as <dir>.
const VARYING = new Set(['executed', 'resumedFrom', 'executedTotal', 'retrievedAt', 'trainSeconds', 'samplesPerSecond', 'seconds', 'checkpointing']);
function results(dir) {
  const rows = JSON.parse(execFileSync(process.execPath, [bin, 'tasks', 'job.yaml', '--json'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 }));
  const strip = (v) => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !VARYING.has(k)).map(([k, x]) => [k, strip(x)]));
    return typeof v === 'string' ? v.split(dir).join('<dir>') : v;
  };
  return new Map(rows.map((r) => [r.id, JSON.stringify(strip(r.result))]));
}

console.log(`bench/shards: node ${process.version}, ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}, epochs ${epochs}, bars ${bars}`);

// 1. Unsharded vs 2 shards.
const t = {};
const one = project();
let t0 = performance.now();
await run(one, ['start', 'job.yaml', '--plain', '--threads', '1']);
t.unsharded1 = (performance.now() - t0) / 1000;
console.log(`unsharded, 1 process × 1 thread (anchor): ${t.unsharded1.toFixed(1)} s`);
const expected = results(one);

const two = project();
t0 = performance.now();
await run(two, ['start', 'job.yaml', '--plain', '--threads', '2']);
t.unsharded2 = (performance.now() - t0) / 1000;
console.log(`unsharded, 1 process × 2 threads: ${t.unsharded2.toFixed(1)} s`);

const sh = project();
t0 = performance.now();
await Promise.all([0, 1].map((i) => run(sh, ['start', 'job.yaml', '--plain', '--threads', '1', '--shard', `${i}/2`])));
const shardsDone = (performance.now() - t0) / 1000;
await run(sh, ['gather', 'job.yaml', '--plain', '--threads', '1']);
t.sharded = (performance.now() - t0) / 1000;
console.log(`2 shards, 2 processes × 1 thread, then gather: ${t.sharded.toFixed(1)} s (shards ${shardsDone.toFixed(1)} s, gather ${(t.sharded - shardsDone).toFixed(1)} s)`);
const got = results(sh);
let same = got.size === expected.size;
for (const [id, r] of expected) {
  if (got.get(id) === r) continue;
  same = false;
  console.log(`  differs: ${id}\n    unsharded ${r}\n    sharded   ${got.get(id)}`);
}
console.log(`results identical to the unsharded run: ${same ? 'yes' : 'NO'} (${got.size} tasks)`);
if (!same) process.exitCode = 1;
const speedup = t.unsharded1 / t.sharded;
console.log(`speedup of 2 shards over the 1-thread anchor: ${speedup.toFixed(2)}×; over 1 process × 2 threads: ${(t.unsharded2 / t.sharded).toFixed(2)}×`);
for (const d of [one, two, sh]) rmSync(d, { recursive: true, force: true });

// 2. Snapshot and restore of a 100k-task store.
const bigDir = mkdtempSync(join(tmpdir(), 'runner-bench-snap-'));
writeFileSync(join(bigDir, 'package.json'), '{}');
const symbols = Array.from({ length: 500 }, (_, i) => `S${i}`).join(', ');
writeFileSync(
  join(bigDir, 'job.yaml'),
  `name: big
matrix: { symbol: [${symbols}], horizon: [1, 5] }
cycle: [${Array.from({ length: 100 }, (_, i) => i + 1).join(', ')}]
stages:
  - { id: work, plugin: steps, options: { steps: 10 } }
`,
);
const prep = spawnSync(process.execPath, [join(repo, 'bench', 'core', 'prepare-100k.mjs'), join(bigDir, 'job.yaml')], { encoding: 'utf8' });
if (prep.status !== 0) throw new Error(prep.stderr);
console.log(`prepared a store: ${prep.stdout.trim()}`);
const bigSpec = await loadJobSpec(join(bigDir, 'job.yaml'));
const storeFile = join(bigSpec.runDir, 'store.mdb');
console.log(`store file: ${(statSync(storeFile).size / 1e6).toFixed(1)} MB`);
const reps = args.quick ? 1 : 3;
const snap = [];
const restore = [];
const cp = [];
for (let i = 0; i < reps; i++) {
  const shared = mkdtempSync(join(tmpdir(), 'runner-bench-shared-'));
  const store = RunStore.open(bigSpec.runDir);
  t0 = performance.now();
  const s = await takeSnapshot(store, bigSpec.runDir, shared, 1);
  snap.push(performance.now() - t0);
  await store.close();
  const target = join(mkdtempSync(join(tmpdir(), 'runner-bench-restore-')), 'run');
  t0 = performance.now();
  await restoreSnapshot(shared, target);
  restore.push(performance.now() - t0);
  const cpTarget = join(shared, 'plain-copy.mdb');
  t0 = performance.now();
  execFileSync('cp', [storeFile, cpTarget]);
  cp.push(performance.now() - t0);
  console.log(`  run ${i + 1}: snapshot ${snap.at(-1).toFixed(0)} ms (${(s.bytes / 1e6).toFixed(1)} MB, ${s.files} files), restore ${restore.at(-1).toFixed(0)} ms, plain cp of store.mdb ${cp.at(-1).toFixed(0)} ms`);
  rmSync(shared, { recursive: true, force: true });
  rmSync(dirname(target), { recursive: true, force: true });
}
rmSync(bigDir, { recursive: true, force: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const snapshotMs = median(snap);
const restoreMs = median(restore);
console.log(`100,000 tasks: snapshot median ${snapshotMs.toFixed(0)} ms, restore ${restoreMs.toFixed(0)} ms; plain cp ${median(cp).toFixed(0)} ms (snapshot/cp ${(snapshotMs / median(cp)).toFixed(1)}×)`);
console.log(`RESULT shard2_speedup=${speedup.toFixed(2)} snapshot_100k_ms=${Math.round(snapshotMs)} restore_100k_ms=${Math.round(restoreMs)}`);
