import type { CommandModule } from 'yargs';
import { dryRun, type DryRun, type PlanAction } from '../../run/dry-run.js';
import { RunStore } from '../../store/lmdb-store.js';
import { c, table } from '../format.js';
import { invocation } from '../invocation.js';
import { loadSpec, print, printJson, storeExists, withJson, withSpec, type SpecArgs } from '../shared.js';

const LABEL: Record<PlanAction, string> = {
  complete: 'complete',
  run: 'would run',
  resume: 'would resume',
  rerun: 'would rerun',
  new: 'new',
  running: 'running now',
  failed: 'failed',
  cancelled: 'cancelled',
  blocked: 'blocked',
};

/** Prints or returns the dry run; writes nothing (the store is opened read-only). */
export async function showPlan(args: SpecArgs & { verbose?: boolean }): Promise<DryRun> {
  const spec = await loadSpec(args);
  const store = storeExists(spec) ? RunStore.open(spec.runDir, { readOnly: true }) : undefined;
  let plan: DryRun;
  try {
    plan = dryRun(spec, store);
  } finally {
    await store?.close();
  }
  if (args.json) {
    printJson(plan);
    return plan;
  }
  print(`${c.bold(plan.name)}: dry run, nothing written. ${plan.started ? `store ${plan.runDir}` : 'not started yet'}${plan.runners ? `; ${plan.runners} runner${plan.runners === 1 ? '' : 's'} working on it now` : ''}`);
  print(
    table(
      plan.stages.map((s) => [s.id, String(s.total), ...(['complete', 'run', 'resume', 'rerun', 'new', 'running', 'failed', 'cancelled', 'blocked'] as PlanAction[]).map((a) => (s.counts[a] ? String(s.counts[a]) : '-'))]),
      ['stage', 'total', 'complete', 'run', 'resume', 'rerun', 'new', 'running', 'failed', 'cancelled', 'blocked'],
    ),
  );
  for (const s of plan.stages) {
    const notable = s.tasks.filter((t) => t.action !== 'complete' && (args.verbose || t.action !== 'run'));
    if (s.changedKeys.length > 0) print(`${c.yellow(s.id)}: options changed: ${s.changedKeys.join(', ')}`);
    const shown = args.verbose ? notable : notable.slice(0, 12);
    for (const t of shown) print(`  ${LABEL[t.action].padEnd(12)} ${t.id}${t.reason ? c.dim(`  ${t.reason}`) : ''}${t.keys ? c.dim(` (changed: ${t.keys.join(', ')})`) : ''}`);
    if (notable.length > shown.length) print(c.dim(`  … ${notable.length - shown.length} more (--verbose lists all)`));
  }
  print(plan.willRun > 0 ? `${plan.willRun} task${plan.willRun === 1 ? '' : 's'} would run: ${invocation()} start ${args.spec}` : c.green('nothing to run: every task is complete, running or needs `runner resume`'));
  return plan;
}

export const planCommand: CommandModule<object, SpecArgs & { verbose?: boolean }> = {
  command: 'plan <spec>',
  describe: 'Dry run: what `start` would run, resume, rerun (and why), per stage; writes nothing',
  builder: (y) =>
    withJson(withSpec(y))
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'List every task that would run' })
      .example('$0 plan configs/demo.yaml', '')
      .example('$0 plan job.yaml --set stages.train.options.epochs=80 --json', 'What raising a target would rerun') as never,
  handler: async (args) => {
    await showPlan(args);
  },
};
