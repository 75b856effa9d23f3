/**
 * The task payload a worker runs: one builder for the runner and the test kit, so a plugin under
 * `runPlugin` sees exactly what it sees under `runner start`.
 */
import type { TaskStartEvent } from '../../events.js';
import { majorOf, type LoadedPlugin } from '../../plugin/load.js';
import type { UpstreamTask } from '../../plugin/types.js';
import type { CheckpointRecord, TaskRecord } from '../../store/types.js';
import { artifactDirFor } from '../../util/run-paths.js';
import type { TaskPayload } from '../../worker/protocol.js';

export interface PayloadInput {
  /** The claimed task record (this attempt). */
  record: Pick<TaskRecord, 'id' | 'stage' | 'cell' | 'cycle' | 'attempts' | 'failures' | 'fingerprint' | 'checkpointSeq' | 'parent'>;
  plugin: Pick<LoadedPlugin, 'name' | 'version' | 'entry' | 'source'>;
  options: Readonly<Record<string, unknown>>;
  /** The task's newest checkpoint, if it has one. */
  lastCheckpoint?: Pick<CheckpointRecord, 'seq' | 'step' | 'total' | 'type' | 'fingerprint' | 'pluginVersion'>;
  run: { name: string; runDir: string; dataDir: string };
  upstream: Record<string, UpstreamTask | UpstreamTask[]>;
  gpus: readonly number[];
  checkpoints: { keep: number; inlineMaxBytes: number };
  ownerId: string;
  progressIntervalMs: number;
}

/**
 * Whether the newest checkpoint applies to this attempt: saved under the same options
 * fingerprint by the same major version of the plugin. (The task context's `checkpoint.load`
 * applies the same rule.)
 */
export function resumePoint(input: Pick<PayloadInput, 'record' | 'plugin' | 'lastCheckpoint'>): TaskStartEvent['resumeFrom'] {
  const last = input.lastCheckpoint;
  if (!last || last.fingerprint !== input.record.fingerprint || majorOf(last.pluginVersion) !== majorOf(input.plugin.version)) return undefined;
  return { seq: last.seq, step: last.step, total: last.total, type: last.type };
}

export function buildTaskPayload(input: PayloadInput): { payload: TaskPayload; resumeFrom?: TaskStartEvent['resumeFrom'] } {
  const rec = input.record;
  const resumeFrom = resumePoint(input);
  const payload: TaskPayload = {
    info: {
      id: rec.id,
      stage: rec.stage,
      plugin: input.plugin.name,
      cell: rec.cell,
      cycle: rec.cycle,
      attempt: rec.attempts,
      failures: rec.failures,
      resumed: resumeFrom !== undefined,
      run: input.run.name,
      ...(rec.parent ? { parent: rec.parent } : {}),
    },
    pluginEntry: input.plugin.entry,
    pluginSource: input.plugin.source,
    options: input.options as Record<string, unknown>,
    runDir: input.run.runDir,
    dataDir: input.run.dataDir,
    artifactDir: artifactDirFor(input.run.runDir, rec.id),
    upstream: input.upstream,
    resources: input.gpus.length > 0 ? { gpu: [...input.gpus] } : {},
    checkpoint: {
      fingerprint: rec.fingerprint,
      pluginVersion: input.plugin.version,
      keep: input.checkpoints.keep,
      inlineMaxBytes: input.checkpoints.inlineMaxBytes,
      lastSeq: rec.checkpointSeq,
      ownerId: input.ownerId,
    },
    progressIntervalMs: input.progressIntervalMs,
  };
  return { payload, resumeFrom };
}
