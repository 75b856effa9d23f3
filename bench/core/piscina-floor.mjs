// The floor: piscina alone running 10,000 no-op tasks, 256 in flight.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// piscina is the core's dependency: resolve it from there.
const core = createRequire(import.meta.url).resolve('@runner/core');
const mod = await import(pathToFileURL(createRequire(core).resolve('piscina')).href);
const Piscina = mod.Piscina ?? mod.default;
const threads = Number(process.argv[2] ?? 2);
const dir = mkdtempSync(join(tmpdir(), 'piscina-'));
writeFileSync(join(dir, 'noop.mjs'), 'export default async function () { return 1; }\n');
const pool = new Piscina({ filename: join(dir, 'noop.mjs'), minThreads: threads, maxThreads: threads, atomics: 'disabled', idleTimeout: 30000 });
await Promise.all(Array.from({ length: 200 }, () => pool.run(0)));
const N = 10000;
const t0 = performance.now();
let inFlight = [];
for (let i = 0; i < N; i++) {
  inFlight.push(pool.run(i));
  if (inFlight.length >= 256) {
    await Promise.all(inFlight);
    inFlight = [];
  }
}
await Promise.all(inFlight);
const seconds = (performance.now() - t0) / 1000;
await pool.destroy();
console.log(JSON.stringify({ seconds, tasksPerS: N / seconds }));
