// The real objective of `pnpm bench hpo` (part e): the real `train` plugin (TF.js, cpu backend),
// a small MLP trained for a few epochs on a seeded synthetic series whose returns have a learnable
// component, scored by validation loss. The series file is generated here (AR(1) returns with a
// nonlinear term, as an Arrow file that `data.file` reads), so that parameters matter.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { runPlugin } from '@runner/core/testing';
import { writeSeries } from '@runner/core/series';
import { createStudy, memoryStorage } from '@runner/plugin-hpo';
import train from '@runner/plugin-train';

/** A daily OHLCV series whose log returns follow r_t = 0.3 r_{t−1} − 0.25 σ tanh(r_{t−3}/σ) + ε_t (σ = 1%). */
export async function learnableSeries(path, rows = 1500, seed = 1) {
  let s = (seed * 2654435761) >>> 0 || 1;
  const rand = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const cols = { time: new Float64Array(rows), open: new Float64Array(rows), high: new Float64Array(rows), low: new Float64Array(rows), close: new Float64Array(rows), volume: new Float64Array(rows) };
  const sigma = 0.01;
  const r = new Float64Array(rows);
  let price = 100;
  for (let t = 0; t < rows; t++) {
    r[t] = (t >= 1 ? 0.3 * r[t - 1] : 0) - (t >= 3 ? 0.25 * sigma * Math.tanh(r[t - 3] / sigma) : 0) + sigma * gauss();
    const open = price;
    price *= Math.exp(r[t]);
    cols.time[t] = Date.UTC(2000, 0, 3) + t * 86_400_000;
    cols.open[t] = open;
    cols.close[t] = price;
    cols.high[t] = Math.max(open, price) * (1 + 0.002 * rand());
    cols.low[t] = Math.min(open, price) * (1 - 0.002 * rand());
    cols.volume[t] = 1e6 * (1 + 0.1 * rand());
  }
  await writeSeries(path, cols, { symbol: 'AR1', source: 'bench' });
  return path;
}

/** The search space, in the trial API: Adam's learning rate, units, dropout, activation, batch size. */
export function suggest(t) {
  return {
    lr: t.suggestFloat('lr', 1e-4, 0.3, { log: true }),
    units: t.suggestInt('units', 2, 128, { log: true }),
    dropout: t.suggestFloat('dropout', 0, 0.7),
    activation: t.suggestCategorical('activation', ['relu', 'tanh']),
    batchSize: t.suggestInt('batchSize', 32, 512, { log: true }),
  };
}

/** Trains once with these parameters; returns the best validation loss (× 1e4, i.e. in (1%)²). */
export async function trainOnce(file, p, epochs = 3) {
  const res = await runPlugin(train, {
    data: { file, features: [{ returns: [1, 2, 3, 5] }], label: { forwardReturn: 1 }, split: { val: 0.3 }, window: 1 },
    model: { layers: [{ dense: { units: p.units, activation: p.activation } }, { dropout: { rate: p.dropout } }, { dense: { units: 1 } }] },
    optimizer: { adam: { lr: p.lr } },
    epochs,
    batchSize: p.batchSize,
    checkpointEvery: 0,
    earlyStopping: { monitor: 'val_loss', patience: epochs, restoreBest: true },
    backend: 'cpu',
    seed: 1,
  });
  if (res.outcome !== 'completed') throw new Error(`training failed: ${res.error?.message}`);
  return res.result.metrics.val_loss * 1e4;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs) => {
  const q = [...xs].sort((a, b) => a - b);
  const m = q.length >> 1;
  return q.length % 2 ? q[m] : (q[m - 1] + q[m]) / 2;
};
const se = (xs) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1) / xs.length);
/** Standard error of the median by bootstrap (seeded), for small seed counts. */
function seMedian(xs) {
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const meds = [];
  for (let b = 0; b < 2000; b++) meds.push(median(xs.map(() => xs[Math.floor(rand() * xs.length)])));
  return se(meds) * Math.sqrt(meds.length);
}

/** One study of `trials` real trainings; the best validation loss after each checkpoint. Results are cached by parameters (training is seeded, so deterministic). */
async function study(file, sampler, seed, trials, check, cache, epochs) {
  const s = await createStudy({ name: `real-${seed}`, storage: memoryStorage(), sampler: { ...sampler, seed } });
  let best = Infinity;
  let k = 0;
  const at = {};
  let trainings = 0;
  await s.optimize(
    async (t) => {
      const p = suggest(t);
      const key = JSON.stringify(p);
      if (!cache.has(key)) {
        cache.set(key, await trainOnce(file, p, epochs));
        trainings++;
      }
      return cache.get(key);
    },
    { trials, onTrialEnd: (tr) => { k++; if (tr.state === 'COMPLETE') best = Math.min(best, tr.value); if (check.includes(k)) at[k] = best; } },
  );
  await s.close();
  return { at, trainings };
}

if (!isMainThread && workerData?.realObjective) {
  const cache = new Map();
  parentPort.on('message', async (job) => {
    if (job === null) process.exit(0);
    const r = await study(job.file, job.sampler, job.seed, job.trials, job.check, cache, job.epochs);
    parentPort.postMessage({ id: job.id, ...r });
  });
}

/**
 * Part (e) of `pnpm bench hpo`: each sampler tunes the real train plugin over `seeds` seeds, up to
 * max(check) trials, on 2 worker threads. Returns, per sampler and checkpoint, mean, median and
 * their standard errors of the best validation loss.
 */
export async function realObjective({ seeds, check = [30, 60], epochs = 3, rows = 1000, jobs = 2, samplers = ['random', 'tpe', 'gp', 'auto'], log = console.log }) {
  const dir = mkdtempSync(join(tmpdir(), 'hpo-real-'));
  const file = await learnableSeries(join(dir, 'ar1.arrow'), rows);
  const trials = Math.max(...check);
  const list = [];
  for (const type of samplers) for (const seed of seeds) list.push({ type, seed });
  // Longest first (GP, auto) so the two threads finish together.
  const t0 = performance.now();
  const out = {};
  let trainings = 0;
  await new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    const workers = Array.from({ length: Math.min(jobs, list.length) }, () => new Worker(fileURLToPath(import.meta.url), { workerData: { realObjective: true } }));
    const feed = (w) => w.postMessage(next < list.length ? { id: next, file, sampler: { type: list[next].type }, seed: list[next++].seed, trials, check, epochs } : null);
    for (const w of workers) {
      w.on('error', reject);
      w.on('message', (m) => {
        const j = list[m.id];
        (out[j.type] ??= []).push(m.at);
        trainings += m.trainings;
        if (++done === list.length) resolve();
        feed(w);
      });
      feed(w);
    }
  });
  rmSync(dir, { recursive: true, force: true });
  const stats = {};
  log(`  validation loss × 1e4 (the noise alone gives ≈ 1.0), best after N trials; ${seeds.length} seeds (${seeds.join(', ')}); ${trainings} trainings of ${epochs} epochs on ${rows} bars in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  log(`  ${'sampler'.padEnd(10)}${check.map((c) => `${c} trials: mean ± s.e. / median ± s.e.`.padStart(44)).join('')}`);
  for (const type of samplers) {
    stats[type] = {};
    const cells = check.map((c) => {
      const xs = out[type].map((a) => a[c]);
      stats[type][c] = { mean: mean(xs), se: se(xs), median: median(xs), seMedian: seMedian(xs), values: xs };
      const st = stats[type][c];
      return `${st.mean.toFixed(3)} ± ${st.se.toFixed(3)} / ${st.median.toFixed(3)} ± ${st.seMedian.toFixed(3)}`.padStart(44);
    });
    log(`  ${type.padEnd(10)}${cells.join('')}`);
  }
  return stats;
}

if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const get = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
  const n = Number(get('--seeds', 4));
  await realObjective({ seeds: Array.from({ length: n }, (_, i) => i), check: get('--check', '30,60').split(',').map(Number), samplers: get('--samplers', 'random,tpe,gp,auto').split(',') });
}
