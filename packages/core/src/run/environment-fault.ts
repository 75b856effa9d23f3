import type { SerializedError } from '../errors.js';

/** Out of space, quota or file size, a read-only filesystem, a failing disk: no task can go on. */
const ANYWHERE = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EFBIG', 'EIO']);
/** Permission and missing-directory errors count when they concern the run directory. */
const IN_RUN_DIR = new Set(['EACCES', 'EPERM', 'ENOENT']);

/**
 * Whether a task's error means the run itself cannot go on (the task is not at fault): then the
 * run stops and the task stays pending, so that a plain rerun continues once the cause is fixed.
 * Returns the code found in the error or its causes. Codes decide, never message text: a plugin
 * whose message merely mentions ENOSPC is a plugin failure.
 */
export function environmentFault(e: SerializedError, runDir: string): string | undefined {
  for (let x: SerializedError | undefined = e; x; x = x.cause) {
    // The store itself cannot be written or read back: no task is at fault, and none may be
    // marked failed in it.
    if (x.code === 'RUNNER_STORE_UNWRITABLE' || x.code === 'RUNNER_STORE_CORRUPT' || x.code === 'RUNNER_STORE_GONE') return x.code;
    if (!x.code) continue;
    if (ANYWHERE.has(x.code)) return x.code;
    // A recursive mkdir on a full inode table reports ENOENT; only that kind of ENOENT counts.
    if (IN_RUN_DIR.has(x.code) && x.path && (x.path === runDir || x.path.startsWith(runDir + '/')) && (x.code !== 'ENOENT' || x.syscall === 'mkdir')) return x.code;
  }
  return undefined;
}
