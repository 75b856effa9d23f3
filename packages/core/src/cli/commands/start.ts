import type { CommandModule } from 'yargs';
import { Runner } from '../../run/runner.js';
import { EventLog } from '../../run/event-log.js';
import type { Verbosity } from '../display.js';
import { showPlan } from './plan.js';
import { loadSpec, withSpec, type SpecArgs } from '../shared.js';
import { prepareShardedStart, type ShardArgs } from '../../shard/run.js';
import { withShardOptions } from './shard-options.js';

interface StartArgs extends SpecArgs, ShardArgs {
  dryRun?: boolean;
  threads?: number;
  gpus?: number;
  only?: string[];
  quiet?: boolean;
  verbose?: boolean;
  plain?: boolean;
}

export const startCommand: CommandModule<object, StartArgs> = {
  command: 'start <spec>',
  describe: 'Run a job spec; run the same command again after any interruption to continue',
  builder: (y) =>
    withShardOptions(withSpec(y))
      .option('threads', { alias: 't', type: 'number', describe: 'Tasks running at once (default: pool.threads, else CPU cores)' })
      .option('gpus', { type: 'number', describe: 'GPUs on this host, for stages with resources: { gpu: n }' })
      .option('only', { type: 'string', array: true, describe: "Run only tasks matching these patterns, e.g. 'train/*AAPL*'" })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Print only warnings, failures and the summary' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'Print every task, checkpoint and log line' })
      .option('plain', { type: 'boolean', describe: 'Plain lines instead of progress bars, even on a terminal' })
      .group(['shard', 'shard-by', 'snapshot-dir', 'snapshot-every'], 'Sharding (docs/scale-out.md):')
      .option('dry-run', { alias: 'n', type: 'boolean', describe: 'Show what would run, resume or rerun and why (as `runner plan`); write nothing' })
      .option('json', { type: 'boolean', describe: 'With --dry-run: print the plan as JSON' })
      .example('$0 start configs/quickstart.yaml', 'Run (or continue) the quick start')
      .example('$0 start job.yaml --threads 4 --set stages.train.options.epochs=150', 'Override values for this run')
      .example('$0 start job.yaml --shard 0/4 --snapshot-dir /shared/runner', 'Shard 0 of 4, snapshots on a shared volume (docs/scale-out.md)') as never,
  handler: async (args) => {
    if (args.dryRun) {
      await showPlan({ ...args, verbose: args.verbose });
      return;
    }
    const loaded = await loadSpec(args, { threads: args.threads, gpus: args.gpus, checkResources: true });
    const sharded = await prepareShardedStart(loaded, args, (level, m) => process.stderr.write(`${level === 'info' ? 'note' : level} ${m}\n`));
    const spec = sharded.spec;
    const runner = new Runner(spec, { only: args.only, ...sharded.runnerOptions });
    sharded.attach(runner);
    // The live display (log-update) loads only for this command.
    const { Display } = await import('../display.js');
    const verbosity: Verbosity = args.quiet ? 'quiet' : args.verbose ? 'verbose' : 'normal';
    const display = new Display(runner.events, verbosity, { tty: args.plain ? false : undefined });
    for (const n of sharded.notes) display.line(`note ${n}`);
    const log = new EventLog(spec.runDir, runner.events);
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals === 1) runner.interrupt(sig);
      else {
        display.line(`${sig} again: exiting now; running tasks resume from their last checkpoint on the next start`);
        runner.markExiting();
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const summary = await runner.run();
      await sharded.close();
      display.finish(summary, args.spec);
      process.exitCode = sharded.keeper?.fatal ? 1 : summary.exitCode;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await log.close();
    }
  },
};
