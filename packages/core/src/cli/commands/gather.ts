import type { CommandModule } from 'yargs';
import { Runner } from '../../run/runner.js';
import { EventLog } from '../../run/event-log.js';
import { importShards } from '../../shard/gather.js';
import { join } from 'node:path';
import { isRunnerError } from '../../errors.js';
import { ShardKeeper } from '../../shard/keeper.js';
import { parseEvery, SNAPSHOT_DIR_ENV } from '../../shard/run.js';

/** Where `runner gather --snapshot-dir` keeps the gathered run: `<dir>/<name>/gathered`. */
export const GATHERED_DIR = 'gathered';
import { openShardSources } from '../../shard/sources.js';
import { Display, type Verbosity } from '../display.js';
import { loadSpec, withSpec, type SpecArgs } from '../shared.js';

interface GatherArgs extends SpecArgs {
  shards?: string[];
  snapshotDir?: string;
  wait?: boolean;
  pollEvery?: string;
  threads?: number;
  quiet?: boolean;
  verbose?: boolean;
  plain?: boolean;
}

export const gatherCommand: CommandModule<object, GatherArgs> = {
  command: 'gather <spec>',
  describe: "After a sharded run: bring every shard's results into runs/<name> and run the fan-in stages over them",
  builder: (y) =>
    withSpec(y)
      .option('shards', { type: 'string', array: true, describe: 'Shard run or snapshot directories, or globs (default: runs/<name>/shard-*, and the snapshot directory)' })
      .option('snapshot-dir', { type: 'string', describe: 'The shared snapshot directory the shards wrote to (env RUNNER_SNAPSHOT_DIR)' })
      .option('wait', { type: 'boolean', describe: 'Wait until every shard has finished instead of refusing (the gather Job on a cluster)' })
      .option('poll-every', { type: 'string', default: '30s', describe: 'With --wait: how often to look at the shards' })
      .option('threads', { alias: 't', type: 'number', describe: 'Tasks running at once (default: pool.threads, else CPU cores)' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Print only warnings, failures and the summary' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'Print every task, checkpoint and log line' })
      .option('plain', { type: 'boolean', describe: 'Plain lines instead of progress bars, even on a terminal' })
      .example('$0 gather job.yaml', 'After `runner start job.yaml --shard i/N` for every i on this machine')
      .example('$0 gather job.yaml --snapshot-dir /shared/runner', 'On a cluster: from the shards’ snapshots') as never,
  handler: async (args) => {
    const spec = await loadSpec(args, { threads: args.threads });
    const snapshotRoot = args.snapshotDir ?? process.env[SNAPSHOT_DIR_ENV];
    const say = (level: string, m: string) => process.stderr.write(`${level === 'info' ? 'note' : level} ${m}\n`);
    // With a snapshot directory the gathered run is kept there too, under the same lease rules.
    const kept = snapshotRoot
      ? await ShardKeeper.open({ dir: join(snapshotRoot, spec.name, GATHERED_DIR), runDir: spec.runDir, everyMs: 30_000, ttlMs: spec.lease.ttlMs, heartbeatMs: spec.lease.heartbeatMs, log: say })
      : undefined;
    for (const n of kept?.notes ?? []) say('info', n);
    let imported;
    for (;;) {
      const found = await openShardSources(spec, args.shards, snapshotRoot);
      try {
        imported = await importShards(spec, found.sources);
        break;
      } catch (err) {
        // Waiting helps while shards work; a failed or cancelled task waits for a person.
        const stuck = isRunnerError(err, 'RUNNER_SHARDS_INCOMPLETE') && Number(err.details?.failed ?? 0) > 0;
        if (!args.wait || stuck || !isRunnerError(err, 'RUNNER_SHARDS_INCOMPLETE')) {
          await kept?.keeper.close();
          throw err;
        }
        say('info', `${err.message}; looking again in ${args.pollEvery}`);
      } finally {
        await found.close();
      }
      await new Promise((r) => setTimeout(r, parseEvery(args.pollEvery ?? '30s')));
    }
    const runner = new Runner(spec, { only: imported.gatherIds.length > 0 ? imported.gatherIds : ['\u0000none'] });
    const verbosity: Verbosity = args.quiet ? 'quiet' : args.verbose ? 'verbose' : 'normal';
    kept?.keeper.attach(runner);
    const display = new Display(runner.events, verbosity, { tty: args.plain ? false : undefined });
    display.line(
      `note gathered ${imported.shards} shards: ${imported.adopted.length} results new or changed` +
        (imported.reopened.length > 0 ? `; ${imported.reopened.length} fan-in tasks rerun over them` : '') +
        `; ${imported.gatherIds.length} fan-in task${imported.gatherIds.length === 1 ? '' : 's'} to run here`,
    );
    const log = new EventLog(spec.runDir, runner.events);
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (++signals === 1) runner.interrupt(sig);
      else process.exit(130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const summary = await runner.run();
      await kept?.keeper.close();
      display.finish(summary, args.spec);
      process.exitCode = kept?.keeper.fatal ? 1 : summary.exitCode;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await log.close();
    }
  },
};
