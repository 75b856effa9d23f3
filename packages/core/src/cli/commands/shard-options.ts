import type { Argv } from 'yargs';
import type { ShardArgs } from '../../shard/run.js';

/** `--shard`, `--shard-by`, `--snapshot-dir`, `--snapshot-every`: see docs/scale-out.md. */
export function withShardOptions<T>(y: Argv<T>): Argv<T & ShardArgs> {
  return y
    .option('shard', {
      type: 'string',
      describe: 'Run one shard: i/N (0-based). Default: JOB_COMPLETION_INDEX with RUNNER_SHARD_COUNT from the environment',
    })
    .option('shard-by', {
      type: 'string',
      array: true,
      describe: 'Matrix keys whose values pick a cell’s shard (default: the keys every per-cell stage shares; env RUNNER_SHARD_BY)',
    })
    .option('snapshot-dir', {
      type: 'string',
      describe: 'Shared directory for snapshots and the shard lease, so that a lost node loses little (env RUNNER_SNAPSHOT_DIR)',
    })
    .option('snapshot-every', {
      type: 'string',
      describe: 'Snapshot at most this long after a task completes or checkpoints (default 30s; env RUNNER_SNAPSHOT_EVERY)',
    }) as unknown as Argv<T & ShardArgs>;
}
