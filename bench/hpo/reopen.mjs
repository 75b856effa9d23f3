// Fresh process: open the 1,500-trial study in a run store and ask the next trial, timed inside
// the plugin from before ctx.db() to after ask() resolves (the trial is committed). Prints JSON.
const processStart = performance.now() - process.uptime() * 1000;
const { definePlugin } = await import('@runner/core');
const { runPlugin } = await import('@runner/core/testing');
const { createStudy } = await import('@runner/plugin-hpo');

const SPACE5 = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`p${i}`, { float: [-5, 5] }]));
const plugin = definePlugin({
  name: 'hpo-bench',
  version: '1.0.0',
  schema: { type: 'object', additionalProperties: true },
  async run(ctx) {
    const t0 = performance.now();
    const study = await createStudy({ name: 'bench', storage: ctx.db('studies'), sampler: { type: 'tpe', seed: 1 }, space: SPACE5 });
    const t1 = performance.now();
    const trial = await study.ask();
    const t2 = performance.now();
    const trials = study.counts.total;
    await study.tell(trial, 0);
    await study.close();
    return { open_ms: t1 - t0, ask_ms: t2 - t1, total_ms: t2 - t0, trials };
  },
});
// A task of its own (the run's first task completed); the plugin's db, and so the study, are shared.
const res = await runPlugin(plugin, {}, { dir: process.argv[2], task: { id: `reopen-${process.pid}/cycle=1` } });
if (res.outcome !== 'completed') throw new Error(res.error?.message);
console.log(JSON.stringify({ ...res.result, process_ms: performance.now() - processStart }));
