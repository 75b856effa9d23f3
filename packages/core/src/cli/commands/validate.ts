import type { CommandModule } from 'yargs';
import { planRun } from '../../run/plan.js';
import { print, printJson, loadSpec, withJson, withSpec, type SpecArgs } from '../shared.js';
import { c } from '../format.js';

export const validateCommand: CommandModule<object, SpecArgs & { gpus?: number }> = {
  command: 'validate <spec>',
  describe: 'Check a job spec and show the tasks it expands to, without running anything',
  builder: (y) => withJson(withSpec(y)).option('gpus', { type: 'number', describe: 'GPUs on this host (checks resources)' }).example('$0 validate configs/demo.yaml', '') as never,
  handler: async (args) => {
    const spec = await loadSpec(args, { gpus: args.gpus, checkResources: true });
    const plan = planRun(spec);
    if (args.json) {
      printJson({
        valid: true,
        name: spec.name,
        runDir: spec.runDir,
        tasks: plan.tasks.length,
        stages: spec.stages.map((s) => ({ id: s.id, plugin: s.plugin.name, version: s.plugin.version, tasks: plan.tasks.filter((t) => t.stage === s.id).length, options: s.options })),
      });
      return;
    }
    print(`${c.green('ok')} ${args.spec}: ${c.bold(spec.name)}, ${plan.tasks.length} task${plan.tasks.length === 1 ? '' : 's'}, store ${spec.runDir}`);
    for (const s of spec.stages) {
      const n = plan.tasks.filter((t) => t.stage === s.id).length;
      print(`  ${s.id.padEnd(12)} ${`${s.plugin.name}@${s.plugin.version}`.padEnd(18)} ${String(n).padStart(6)} task${n === 1 ? '' : 's'}${s.needs.length ? `  needs ${s.needs.join(', ')}` : ''}`);
    }
    const first = plan.tasks[0];
    if (first) print(c.dim(`  e.g. ${first.id}`));
  },
};
