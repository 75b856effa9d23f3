import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPlugin } from '@runner/core/testing';
import plugin from '@runner/plugin-backtest';
const file = process.argv[2];
for (let r = 0; r < 3; r++) {
  const t = performance.now();
  const res = await runPlugin(plugin, { data: { file }, strategy: { type: 'sma-cross', fast: 10, slow: 50, scale: 1e4 }, commission: { perUnit: 0.1 }, sizing: { units: 10 }, outputs: { csv: false, arrow: false, html: false }, checkpoint: { everyBars: 1000 } }, { dir: mkdtempSync(join(tmpdir(), 'btp-')), task: { id: 'backtest/cycle=1', cell: {} } });
  console.log(globalThis.__tr|0, globalThis.__tc|0, globalThis.__tw|0, globalThis.__ts|0); globalThis.__tr=globalThis.__tc=globalThis.__tw=globalThis.__ts=0; console.log(res.outcome, res.result?.seconds, res.result?.loopSeconds, res.result?.checkpoints, performance.now() - t);
}
