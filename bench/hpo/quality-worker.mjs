// A worker thread of the quality runs (gp-quality.mjs, heldout-style): runs studies of one sampler
// on one function for some seeds and returns the best value after each checkpoint.
import { parentPort } from 'node:worker_threads';
import { createStudy, memoryStorage } from '@runner/plugin-hpo';
import { FUNCTIONS } from './functions.mjs';
import { HELDOUT_COND } from './heldout-conditional-functions.mjs';
import { HELDOUT } from './heldout-functions.mjs';
import { HELDOUT_NEW } from './heldout-new-functions.mjs';
import { TUNING } from './tuning-functions.mjs';

const ALL = { ...FUNCTIONS, ...HELDOUT, ...HELDOUT_NEW, ...HELDOUT_COND, ...TUNING };

export async function bestAt(fnName, sampler, seed, trials, check) {
  const fn = ALL[fnName];
  const study = await createStudy({ name: `${fnName}-${seed}`, storage: memoryStorage(), sampler: { ...sampler, seed } });
  let best = Infinity;
  let k = 0;
  const at = {};
  await study.optimize((t) => fn(t), {
    trials,
    onTrialEnd: (tr) => {
      k++;
      if (tr.state === 'COMPLETE') best = Math.min(best, tr.value);
      if (check.includes(k)) at[k] = best;
    },
  });
  await study.close();
  return at;
}

parentPort?.on('message', async (job) => {
  if (job === null) process.exit(0);
  const out = [];
  for (const seed of job.seeds) out.push(await bestAt(job.fn, job.sampler, seed, job.trials, job.check));
  parentPort.postMessage({ id: job.id, out });
});
