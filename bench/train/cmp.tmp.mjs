import { runPlugin } from '@runner/core/testing';
import plugin from '@runner/plugin-train';
import { loadTf, selectBackend } from '@runner/plugin-train/inference';
import { rmSync } from 'node:fs';
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const S = 20000, E = 3, ROWS = Math.ceil((S + 1) / 0.8) + 102;
const opts = { data: { synthetic: { rows: ROWS, seed: 1 }, features: [{ returns: range(1, 101) }, { smaRatio: range(2, 102) }], label: { forwardReturn: 1 } }, model: { layers: [{ dense: { units: 128, activation: 'relu' } }, { dense: { units: 64, activation: 'relu' } }, { dense: { units: 1 } }] }, batchSize: 256, epochs: E, checkpointEvery: 5, backend: 'wasm' };
const tf = await loadTf(); await selectBackend(tf, 'wasm', { gpuAllowGrowth: true });
async function fit(nTrain, nVal) {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [202], units: 128, activation: 'relu' }), tf.layers.dense({ units: 64, activation: 'relu' }), tf.layers.dense({ units: 1 })] });
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'meanSquaredError' });
  const x = tf.randomNormal([nTrain, 202]), y = tf.randomNormal([nTrain, 1], 0, 0.02), xv = tf.randomNormal([nVal, 202]), yv = tf.randomNormal([nVal, 1]);
  const t0 = performance.now();
  await model.fit(x, y, { epochs: E, batchSize: 256, shuffle: true, validationData: [xv, yv], verbose: 0 });
  const s = (performance.now() - t0) / 1000; tf.dispose([x, y, xv, yv]); model.optimizer.dispose(); model.dispose();
  return nTrain * E / s;
}
for (let i = 0; i < 3; i++) {
  const r = await runPlugin(plugin, opts); rmSync(r.dir, { recursive: true });
  const f = await fit(r.result.samples.train, r.result.samples.val);
  console.log('plugin', r.result.samplesPerSecond, 'fit', Math.round(f), 'ratio', (r.result.samplesPerSecond / f).toFixed(3), JSON.stringify(r.result.checkpointing));
}
