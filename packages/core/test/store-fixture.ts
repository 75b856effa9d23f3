/** Stores in fresh temporary directories for the store's tests, and the planned task they add. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../src/store/lmdb-store.js';
import type { PlannedTaskInput } from '../src/store/types.js';

const open: RunStore[] = [];

/** A store in `dir` (a fresh temporary directory by default), closed by {@link closeStores}. */
export function store(dir = mkdtempSync(join(tmpdir(), 'runner-store-'))): RunStore {
  const s = RunStore.open(dir);
  open.push(s);
  return s;
}

/** Closes every store opened since the last call: `afterEach(closeStores)`. */
export async function closeStores(): Promise<void> {
  for (const s of open.splice(0)) await s.close();
}

/** A planned task of stage `id`'s first segment, plugin steps, cycle 1, no needs. */
export const task = (id: string, extra: Partial<PlannedTaskInput> = {}): PlannedTaskInput => ({
  id,
  stage: id.split('/')[0]!,
  plugin: 'steps',
  cell: {},
  cycle: 1,
  needs: [],
  fingerprint: 'f1',
  targets: 't1',
  pluginVersion: '1.0.0',
  ...extra,
});
