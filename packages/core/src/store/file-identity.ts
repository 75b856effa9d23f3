import { statSync } from 'node:fs';
import { join } from 'node:path';
import { leaseLost, storeGone, type RunnerError } from '../errors.js';

export const LOCK_SUFFIX = '-lock';

interface FileId {
  dev: number;
  ino: number;
}

function fileId(path: string): FileId | undefined {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino };
  } catch {
    return undefined;
  }
}

const same = (a: FileId | undefined, b: FileId | undefined) => !!a && !!b && a.dev === b.dev && a.ino === b.ino;

/**
 * Remembers which inodes the store file and LMDB's lock file were when the store was opened.
 * LMDB's cross-process write lock lives in the lock file: if it is deleted, the next process
 * creates a fresh one and both believe they hold the write lock. If the store file is unlinked
 * (`rm -rf runs/<name>`), writes go to a file nobody will read. Either way the runner must stop.
 */
export class StoreFiles {
  private readonly store?: FileId;
  private readonly lock?: FileId;
  /** The lock file did not exist before this process opened an existing store. */
  readonly lockWasMissing: boolean;

  private constructor(
    private readonly dir: string,
    private readonly storePath: string,
    lockWasMissing: boolean,
  ) {
    this.store = fileId(storePath);
    this.lock = fileId(storePath + LOCK_SUFFIX);
    this.lockWasMissing = lockWasMissing;
  }

  /** Call before opening: notes whether the store exists without its lock file. */
  static before(dir: string, file: string): { opened(): StoreFiles } {
    const storePath = join(dir, file);
    const missing = fileId(storePath) !== undefined && fileId(storePath + LOCK_SUFFIX) === undefined;
    return { opened: () => new StoreFiles(dir, storePath, missing) };
  }

  /** What changed since the store was opened, as the error to stop with; undefined if nothing. */
  check(): RunnerError | undefined {
    const s = fileId(this.storePath);
    if (!s) return storeGone(this.dir, 'was deleted');
    if (!same(s, this.store)) return storeGone(this.dir, 'was replaced by another file');
    const l = fileId(this.storePath + LOCK_SUFFIX);
    if (!same(l, this.lock)) {
      return leaseLost(
        `the store's lock file ${this.storePath + LOCK_SUFFIX} was ${l ? 'replaced' : 'deleted'} while this runner held the run; a second process could now write at the same time. Stopping at once`,
        'Never delete store.mdb-lock while a runner works on the run. Nothing committed is lost: start the run again once no other runner is working on it.',
      );
    }
    return undefined;
  }
}
