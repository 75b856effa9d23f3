// Builds the 100k-task store once (planned like `runner start` does), then marks half of the
// tasks completed and 100 as running under a runner that is gone.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
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
// Through the store's own transactions, as runners would have left it. claim() takes only
// registered runners; the dead one is a runner on this host whose process has exited, so the next
// start resets its tasks at once (on another host it would wait for the lease).
const gone = spawnSync(process.execPath, ['-e', '0']).pid;
const dead = { id: `${hostname()}:${gone}:dead`, pid: gone, host: hostname() };
const alive = { id: 'bench:prepare', pid: process.pid, host: 'bench' };
for (const o of [dead, alive]) await store.registerOwner({ ...o, startedAt: Date.now(), heartbeatAt: Date.now(), leaseMs: 30_000, argv: [] });
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
await store.removeOwner(alive.id);
await store.close();
console.log(JSON.stringify({ tasks: ids.length, completed, running, seconds: (performance.now() - t0) / 1000 }));
