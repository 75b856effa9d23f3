// Builds the 100k-task store once (planned like `runner start` does), then marks half of the
// tasks completed and 100 as running under a runner that is gone.
import { loadJobSpec, planRun, RunStore } from '@runner/core';

const spec = await loadJobSpec(process.argv[2]);
const staleOnly = process.argv.includes('--stale-only');
const t0 = performance.now();
const plan = planRun(spec);
const store = RunStore.open(spec.runDir);
await store.initMeta(spec.name, spec.source.specPath);
if (!staleOnly) {
  await store.syncPlan(plan.tasks, plan.dependents);
  await store.setPlanDigest(plan.digest);
}
const dead = { id: 'otherhost:1:dead', pid: 1, host: 'otherhost' };
let completed = 0;
let running = 0;
const ids = plan.tasks.map((t) => t.id);
for (let i = 0; i < ids.length; i += 5000) {
  await store.tasks.transaction(() => {
    for (const id of ids.slice(i, i + 5000)) {
      const rec = store.tasks.get(id);
      const n = Number(id.split('=').pop());
      if (!staleOnly && n % 2 === 0) {
        store.tasks.put(id, { ...rec, state: 'completed', attempts: 1, result: { steps: 10 } });
        completed++;
      } else if (rec.state !== 'completed' && running < 100) {
        store.tasks.put(id, { ...rec, state: 'running', owner: dead, attempts: rec.attempts + 1 });
        running++;
      }
    }
  });
}
await store.close();
console.log(JSON.stringify({ tasks: ids.length, completed, running, seconds: (performance.now() - t0) / 1000 }));
