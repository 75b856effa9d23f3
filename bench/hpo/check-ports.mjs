#!/usr/bin/env node
// `node bench/hpo/check-ports.mjs`: the Python ports of the test functions (optuna_bench.py,
// optuna_functions.py) give the same values as the JavaScript ones at 20 random parameter sets
// each (60 for the conditional ones, so that every branch of their spaces is reached), so that
// Optuna and our samplers optimise the same functions. Exits 1 on a mismatch.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStudy, memoryStorage } from '@runner/plugin-hpo';
import { FUNCTIONS } from './functions.mjs';
import { HELDOUT_COND } from './heldout-conditional-functions.mjs';
import { HELDOUT } from './heldout-functions.mjs';
import { HELDOUT_NEW } from './heldout-new-functions.mjs';
import { TUNING } from './tuning-functions.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const all = { ...FUNCTIONS, ...HELDOUT, ...HELDOUT_NEW, ...HELDOUT_COND, ...TUNING };
const points = {};
const js = {};
for (const [name, fn] of Object.entries(all)) {
  const study = await createStudy({ name: `port-${name}`, storage: memoryStorage(), sampler: { type: 'random', seed: 1 } });
  await study.optimize((t) => fn(t), { trials: name in HELDOUT_COND ? 60 : 20 });
  points[name] = study.trials.map((t) => t.params);
  js[name] = study.trials.map((t) => t.value);
}
const dir = mkdtempSync(join(tmpdir(), 'hpo-ports-'));
writeFileSync(join(dir, 'points.json'), JSON.stringify(points));
const r = spawnSync('/usr/bin/python3', [join(here, 'optuna_bench.py'), 'values', '--points', join(dir, 'points.json')], { encoding: 'utf8' });
rmSync(dir, { recursive: true, force: true });
if (r.status !== 0) throw new Error(r.stderr);
const py = JSON.parse(r.stdout.trim().split('\n').pop());
let bad = 0;
for (const name of Object.keys(all)) {
  const worst = Math.max(...js[name].map((v, i) => Math.abs(v - py[name][i]) / Math.max(1, Math.abs(v))));
  if (!(worst < 1e-9)) bad++;
  console.log(`${name.padEnd(18)} ${worst < 1e-9 ? 'same' : `DIFFERENT (relative ${worst})`}`);
}
console.log(`${Object.keys(all).length - bad}/${Object.keys(all).length} functions agree`);
process.exit(bad ? 1 : 0);
