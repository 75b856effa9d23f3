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
// Through the store's own transactions, as runners would have left it.
const dead = { id: 'otherhost:1:dead', pid: 1, host: 'otherhost' };
const alive = { id: 'bench:prepare', pid: process.pid, host: 'bench' };
let completed = 0;
let running = 0;
const ids = plan.tasks.map((t) => t.id);
const pending = ids.filter((id) => store.getTask(id)?.state === 'pending');
if (!staleOnly) {
  const done = pending.filter((id) => Number(id.split('=').pop()) % 2 === 0);
  for (let i = 0; i < done.length; i += 5000) {
    const batch = done.slice(i, i + 5000);
    await store.claim(batch, alive);
    await Promise.all(batch.map((id) => store.finish(id, alive.id, { state: 'completed', result: { steps: 10 }, runMs: 5 })));
    completed += batch.length;
  }
}
const stale = ids.filter((id) => store.getTask(id)?.state === 'pending').slice(0, 100);
running = (await store.claim(stale, dead)).length;
await store.close();
console.log(JSON.stringify({ tasks: ids.length, completed, running, seconds: (performance.now() - t0) / 1000 }));
