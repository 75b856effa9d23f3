#!/usr/bin/env node
// Benchmark of the train plugin on the workload: a 202→128→64→1 MLP, batch 256, Adam,
// on 50k synthetic samples. Measures, in one run:
//   - samples/s through the plugin (its checkpoints and events included) and through raw
//     model.fit on the same backend, for wasm and cpu;
//   - two trainings in parallel on the runner's pool (real `runner start`, 2 threads) against one;
//   - checkpoint save and restore times and the checkpoint overhead at checkpointEvery: 5;
//   - PyTorch side by side (Debian's /usr/bin/python3, python3-torch), with the reference BLAS
//     and with OpenBLAS, reporting which BLAS torch actually loaded.
// Plugin and raw fit alternate (after a warm-up) and the best of --repeats runs of each counts,
// which keeps other load on a shared machine from deciding the ratio.
// Usage: pnpm bench train [--epochs 6] [--samples 50000] [--repeats 2] [--cpu-samples 20000]
//          [--cpu-epochs 1] [--parallel-epochs 3] [--backends wasm,cpu] [--quick] [--no-torch] [--no-parallel]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runPlugin } from '@runner/core/testing';
import plugin from '@runner/plugin-train';
import { loadTf, selectBackend } from '@runner/plugin-train/inference';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '6' },
    samples: { type: 'string', default: '50000' },
    'cpu-samples': { type: 'string', default: '20000' },
    repeats: { type: 'string', default: '2' },
    'cpu-epochs': { type: 'string', default: '1' },
    'parallel-epochs': { type: 'string', default: '3' },
    'torch-epochs': { type: 'string', default: '3' },
    backends: { type: 'string', default: 'wasm,cpu' },
    quick: { type: 'boolean', default: false },
    'no-torch': { type: 'boolean', default: false },
    'no-parallel': { type: 'boolean', default: false },
  },
});
const quick = args.quick;
const SAMPLES = quick ? 10_000 : Number(args.samples);
const EPOCHS = quick ? 2 : Number(args.epochs);
const CPU_EPOCHS = Number(args['cpu-epochs']);
const PAR_EPOCHS = quick ? 1 : Number(args['parallel-epochs']);
const TORCH_EPOCHS = quick ? 1 : Number(args['torch-epochs']);
const BACKENDS = (quick ? 'wasm' : args.backends).split(',').filter(Boolean);
const REPEATS = quick ? 1 : Number(args.repeats);
const CPU_SAMPLES = Number(args['cpu-samples']);
const VAL = 0.2;
// returns_1..101 and smaRatio_2..102: 202 features; the longest lookback is 101 bars.
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const FEATURES = [{ returns: range(1, 101) }, { smaRatio: range(2, 102) }];
// n samples = rows - 101 (lookback) - 1 (label); train = n - round(0.2 n) - 1 (gap).
const rowsFor = (samples) => Math.ceil((samples + 1) / (1 - VAL)) + 102;

const workload = (backend, epochs, extra = {}, samples = SAMPLES) => ({
  data: { synthetic: { rows: rowsFor(samples), seed: 1 }, features: FEATURES, label: { forwardReturn: 1 }, split: { val: VAL } },
  model: { layers: [{ dense: { units: 128, activation: 'relu' } }, { dense: { units: 64, activation: 'relu' } }, { dense: { units: 1 } }] },
  optimizer: { adam: { lr: 0.001 } },
  batchSize: 256,
  epochs,
  checkpointEvery: 5,
  backend,
  ...extra,
});

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : String(n));
const log = (s = '') => console.log(s);

async function rawFit(backend, nTrain, nVal, epochs) {
  const tf = await loadTf();
  await selectBackend(tf, backend, { gpuAllowGrowth: true });
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [202], units: 128, activation: 'relu' }), tf.layers.dense({ units: 64, activation: 'relu' }), tf.layers.dense({ units: 1 })],
  });
  const optimizer = tf.train.adam(0.001);
  model.compile({ optimizer, loss: 'meanSquaredError' });
  const x = tf.randomNormal([nTrain, 202], 0, 1, 'float32', 1);
  const y = tf.randomNormal([nTrain, 1], 0, 0.02, 'float32', 2);
  const xv = tf.randomNormal([nVal, 202], 0, 1, 'float32', 3);
  const yv = tf.randomNormal([nVal, 1], 0, 0.02, 'float32', 4);
  const t0 = performance.now();
  await model.fit(x, y, { epochs, batchSize: 256, shuffle: true, validationData: [xv, yv], verbose: 0 });
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose([x, y, xv, yv]);
  optimizer.dispose();
  model.dispose();
  return { samplesPerSecond: (nTrain * epochs) / seconds, seconds };
}

async function pluginRun(backend, epochs, extra = {}, run = {}, samples = SAMPLES) {
  const r = await runPlugin(plugin, workload(backend, epochs, extra, samples), run);
  if (r.outcome !== 'completed' && !run.crashAtStep) throw new Error(`plugin run on ${backend} ${r.outcome}: ${r.error?.message}`);
  return r;
}

function runnerStart(cells, epochs) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-train-'));
  writeFileSync(join(dir, 'package.json'), '{"name":"bench","private":true}');
  const stage = { id: 'train', plugin: 'train', options: workload('wasm', epochs, { checkpointEvery: 5 }) };
  const spec = { name: 'bench', matrix: { symbol: cells }, pool: { threads: cells.length }, stages: [stage] };
  writeFileSync(join(dir, 'job.yaml'), JSON.stringify(spec));
  const bin = join(repo, 'packages/core/bin/runner.js');
  const start = spawnSync(process.execPath, [bin, 'start', 'job.yaml', '--quiet', '--plain'], { cwd: dir, encoding: 'utf8' });
  if (start.status !== 0) throw new Error(`runner start failed: ${start.stdout}${start.stderr}`);
  const tasks = JSON.parse(spawnSync(process.execPath, [bin, 'tasks', 'job.yaml', '--json'], { cwd: dir, encoding: 'utf8' }).stdout);
  rmSync(dir, { recursive: true, force: true });
  return tasks.map((t) => t.result);
}

function torch(label, env, epochs) {
  const r = spawnSync('/usr/bin/python3', [join(here, 'torch_mlp.py'), String(SAMPLES), String(epochs)], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) return { label, error: (r.stderr || r.stdout).trim().split('\n').at(-1) };
  return { label, ...JSON.parse(r.stdout.trim().split('\n').at(-1)) };
}

// ---------------------------------------------------------------------------------------------
log(`bench/train: 202→128→64→1 MLP, batch 256, Adam; ${fmt(SAMPLES)} training samples (+${fmt(VAL * 100)}% validation by time)`);
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
log(`host: ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}, load average ${load()}${quick ? ' (quick mode)' : ''}`);
log('');

let wasm;
for (const backend of BACKENDS) {
  const epochs = backend === 'cpu' ? CPU_EPOCHS : EPOCHS;
  const samples = backend === 'cpu' ? Math.min(CPU_SAMPLES, SAMPLES) : SAMPLES;
  await rawFit(backend, 4096, 1024, 1); // warm-up: JIT and the backend's kernels
  const fits = [];
  const plugins = [];
  const sizes = { train: 0, val: 0 };
  const plug = async () => {
    const p = await pluginRun(backend, epochs, {}, {}, samples);
    plugins.push(p.result);
    Object.assign(sizes, p.result.samples);
    rmSync(p.dir, { recursive: true, force: true });
  };
  // Alternate which goes first, so that neither always runs in the other's wake.
  for (let i = 0; i < REPEATS; i++) {
    if (i % 2 === 0) {
      await plug();
      fits.push(await rawFit(backend, sizes.train, sizes.val, epochs));
    } else {
      fits.push(await rawFit(backend, sizes.train, sizes.val, epochs));
      await plug();
    }
  }
  const res = plugins.reduce((a, b) => (b.samplesPerSecond > a.samplesPerSecond ? b : a));
  const fit = Math.max(...fits.map((f) => f.samplesPerSecond));
  if (backend === 'wasm') wasm = { res, fit: { samplesPerSecond: fit } };
  log(
    `${backend.padEnd(5)} plugin ${fmt(res.samplesPerSecond).padStart(8)} samples/s   raw fit ${fmt(fit).padStart(8)} samples/s   plugin/fit ${fmt(res.samplesPerSecond / fit, 3)}` +
      `   (${fmt(res.samples.train)} samples x ${epochs} epochs, best of ${REPEATS}: plugin ${plugins.map((p) => fmt(p.samplesPerSecond)).join(', ')}; fit ${fits.map((f) => fmt(f.samplesPerSecond)).join(', ')})`,
  );
}
if (!wasm) throw new Error('the wasm backend is needed for the RESULT line; pass --backends wasm,...');

// Checkpoints: the wasm run above saved at epoch 5 (checkpointEvery: 5) and at the end.
const ck = wasm.res.checkpointing;
const epochSeconds = wasm.res.trainSeconds / EPOCHS;
const saveMs = ck.saveMs / Math.max(1, ck.saves);
const snapshotMs = ck.snapshotMs / EPOCHS;
// Per epoch at checkpointEvery 5: one save per 5 epochs, plus the snapshot kept every epoch for a failure checkpoint.
const overheadPct = ((saveMs / 5 + snapshotMs) / (epochSeconds * 1000)) * 100;
// Restore: the same model and optimizer (the data size does not matter), crashed in epoch 2, resumed from epoch 1.
const crashed = await pluginRun('wasm', 2, { checkpointEvery: 1 }, { crashAtStep: 1.5 }, 3000);
const resumed = await pluginRun('wasm', 2, { checkpointEvery: 1 }, { dir: crashed.dir }, 3000);
const restoreMs = resumed.result.resumedFrom.loadMs + resumed.result.resumedFrom.restoreMs;
rmSync(crashed.dir, { recursive: true, force: true });
log('');
log(`checkpoint: ${fmt(ck.bytes / 1024, 0)} KiB, save ${fmt(saveMs, 1)} ms (encode + checksum + fsync'd file + LMDB commit), per-epoch snapshot ${fmt(snapshotMs, 1)} ms`);
log(`            restore ${fmt(restoreMs, 1)} ms (load ${fmt(resumed.result.resumedFrom.loadMs, 1)} ms + into model and optimizer ${fmt(resumed.result.resumedFrom.restoreMs, 1)} ms)`);
log(`            overhead at checkpointEvery 5: ${fmt(overheadPct, 3)}% of epoch time (epoch ${fmt(epochSeconds, 2)} s)`);

let speedup = NaN;
if (!args['no-parallel']) {
  const one = runnerStart(['AAA'], PAR_EPOCHS);
  const two = runnerStart(['AAA', 'BBB'], PAR_EPOCHS);
  const single = one[0].samplesPerSecond;
  const aggregate = two.reduce((s, r) => s + r.samples.train * r.epochs, 0) / Math.max(...two.map((r) => r.trainSeconds));
  speedup = aggregate / single;
  log('');
  log(`pool (runner start, wasm, ${PAR_EPOCHS} epochs): 1 task ${fmt(single)} samples/s; 2 tasks on 2 threads ${fmt(aggregate)} samples/s together → ×${fmt(speedup, 2)}`);
}

const anchors = [];
if (!args['no-torch']) {
  if (!existsSync('/usr/bin/python3')) log('\ntorch: /usr/bin/python3 not found, skipped');
  else {
    anchors.push(torch('reference BLAS', { LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/blas:/usr/lib/x86_64-linux-gnu/lapack' }, 1));
    anchors.push(torch('OpenBLAS', { LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-pthread' }, TORCH_EPOCHS));
    log('');
    for (const a of anchors) {
      if (a.error) log(`torch ${a.label}: failed (${a.error})`);
      else log(`torch ${a.torch} ${a.label.padEnd(14)} ${fmt(a.samples_per_s).padStart(8)} samples/s (${a.threads} intra-op thread${a.threads > 1 ? 's' : ''}; loaded ${a.blas.map((b) => b.split('/').slice(-2).join('/')).join(', ') || 'no BLAS library'})`);
    }
  }
}
const openblas = anchors.find((a) => a.label === 'OpenBLAS' && !a.error)?.samples_per_s ?? NaN;

log('');
log('Targets: plugin within 10% of raw fit (plugin/fit >= 0.9); 2 parallel trainings >= 1.7x one; checkpoint overhead < 1%; restore < 50 ms.');
log(`Load average at the end: ${load()} on ${cpus().length} cores. Timings are noisy on a shared machine: compare ratios within one run, use --epochs 20 for steadier figures.`);
const r = (x, d) => (Number.isFinite(x) ? Number(x.toFixed(d)) : 'NaN');
log(
  `RESULT wasm_samples_per_s=${r(wasm.res.samplesPerSecond, 0)} plugin_over_fit=${r(wasm.res.samplesPerSecond / wasm.fit.samplesPerSecond, 3)} ` +
    `parallel_speedup=${r(speedup, 2)} ckpt_overhead_pct=${r(overheadPct, 3)} restore_ms=${r(restoreMs, 1)} torch_openblas_samples_per_s=${r(openblas, 0)}`,
);
