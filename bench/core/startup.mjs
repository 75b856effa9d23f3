// Time from this process's start until `runner start` has opened the store, reset stale work
// and planned (its run:start event), for a run that already holds 100k tasks. Then it stops.
import { performance } from 'node:perf_hooks';

const { loadJobSpec, Runner } = await import('@runner/core');
const t0 = performance.now();
const spec = await loadJobSpec(process.argv[2]);
const t1 = performance.now();
const runner = new Runner(spec);
let reset = 0;
runner.events.on('run:start', (e) => {
  const at = performance.now();
  reset = Number(/(\d+) tasks? (was|were) left running/.exec(e.notes.join(' '))?.[1] ?? 0);
  runner.interrupt('bench');
  runner.events.once('run:end', () => {
    console.log(JSON.stringify({ seconds: at / 1000, loadSpec: (t1 - t0) / 1000, openPlan: (at - t1) / 1000, imports: t0 / 1000, reset }));
  });
});
await runner.run();
