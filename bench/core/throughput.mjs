// One end-to-end run of a job spec in this process; prints JSON with tasks/s.
import { loadJobSpec, Runner } from '@runner/core';

const spec = await loadJobSpec(process.argv[2]);
const runner = new Runner(spec);
let t0 = 0;
runner.events.on('run:start', () => (t0 = performance.now()));
const summary = await runner.run();
const seconds = (performance.now() - t0) / 1000;
if (summary.exitCode !== 0) throw new Error(`run failed: ${JSON.stringify(summary)}`);
console.log(JSON.stringify({ tasks: summary.counts.completed, seconds, tasksPerS: summary.counts.completed / seconds }));
