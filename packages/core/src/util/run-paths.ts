import { join } from 'node:path';

export const ARTIFACTS_DIR = 'artifacts';
export const CHECKPOINTS_SUBDIR = '.checkpoints';

/** Task ids are path-safe by construction: `/` separates segments, values are %-encoded. */
export function artifactDirFor(runDir: string, taskId: string): string {
  return join(runDir, ARTIFACTS_DIR, ...taskId.split('/'));
}

/** A checkpoint payload file, relative to the run directory. */
export function checkpointFileFor(taskId: string, seq: number, attempt: number, type: string): string {
  return join(ARTIFACTS_DIR, ...taskId.split('/'), CHECKPOINTS_SUBDIR, `${String(seq).padStart(6, '0')}-a${attempt}-${type}.ckpt`);
}
