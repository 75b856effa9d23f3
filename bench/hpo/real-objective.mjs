// The real objective of `pnpm bench hpo` (part e): the real `train` plugin (TF.js, cpu backend),
// a small MLP trained for a few epochs on a seeded synthetic series whose returns have a learnable
// component, scored by validation loss. The series file is generated here (AR(1) returns with a
// nonlinear term, as an Arrow file that `data.file` reads), so that parameters matter.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPlugin } from '@runner/core/testing';
import { writeSeries } from '@runner/core/series';
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
    batchSize: t.suggestInt('batchSize', 16, 512, { log: true }),
  };
}

/** Trains once with these parameters; returns the best validation loss (× 1e4, i.e. in (1%)²). */
export async function trainOnce(file, p, epochs = 4) {
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

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const dir = mkdtempSync(join(tmpdir(), 'hpo-real-'));
  const file = await learnableSeries(join(dir, 'ar1.arrow'));
  for (const p of [
    { lr: 0.01, units: 32, dropout: 0.1, activation: 'relu', batchSize: 64 },
    { lr: 0.0001, units: 2, dropout: 0.6, activation: 'tanh', batchSize: 512 },
    { lr: 0.003, units: 64, dropout: 0, activation: 'tanh', batchSize: 32 },
  ]) {
    const t0 = performance.now();
    const v = await trainOnce(file, p);
    console.log(JSON.stringify(p), v.toFixed(4), `${(performance.now() - t0).toFixed(0)} ms`);
  }
}
