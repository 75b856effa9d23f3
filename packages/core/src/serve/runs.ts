import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { RunStore, STORE_FILE } from '../store/lmdb-store.js';

/** Run names are directory names: letters, digits, `.`, `_`, `-`; never `.` or `..`. */
const RUN_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function isRunName(name: string): boolean {
  return RUN_NAME.test(name) && name !== '.' && name !== '..';
}

/**
 * The run stores under one runs directory, opened once each and kept open. Every lookup checks
 * the name and that the resolved directory is inside the runs directory (no `..`, no symlink out),
 * so nothing outside it is ever opened. Each request calls `fresh()` to see what runners committed.
 */
export class RunRegistry {
  readonly root: string;
  private readonly stores = new Map<string, RunStore>();

  constructor(runsDir: string) {
    this.root = realpathSync(runsDir);
  }

  names(): string[] {
    let entries: string[] = [];
    try {
      entries = readdirSync(this.root);
    } catch {
      return [];
    }
    return entries.filter((n) => isRunName(n) && this.dirOf(n) !== undefined).sort();
  }

  /** The run's directory, or undefined for an unknown or unsafe name. */
  dirOf(name: string): string | undefined {
    if (!isRunName(name)) return undefined;
    const dir = join(this.root, name);
    try {
      const real = realpathSync(dir);
      if (!real.startsWith(this.root + sep) || !statSync(real).isDirectory()) return undefined;
      return existsSync(join(real, STORE_FILE)) ? real : undefined;
    } catch {
      return undefined;
    }
  }

  /** The run's store with a fresh read transaction; undefined for an unknown run. */
  store(name: string): RunStore | undefined {
    const dir = this.dirOf(name);
    if (!dir) return undefined;
    let s = this.stores.get(dir);
    if (!s) {
      try {
        s = RunStore.open(dir);
      } catch {
        // A store we may not write (read-only mount, another user's run): serve it read-only.
        s = RunStore.open(dir, { readOnly: true });
      }
      this.stores.set(dir, s);
    } else s.refresh();
    return s;
  }

  async close(): Promise<void> {
    for (const s of this.stores.values()) await s.close().catch(() => {});
    this.stores.clear();
  }
}
