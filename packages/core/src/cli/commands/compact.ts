import { renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { runLocked } from '../../errors.js';
import { STORE_FILE } from '../../store/lmdb-store.js';
import { c } from '../format.js';
import { liveOwners, loadSpec, openStore, print, printJson, withJson, withSpec, type SpecArgs } from '../shared.js';

/**
 * LMDB never gives pages back to the filesystem: a store keeps the size of its largest moment
 * (after a reset and rerun of 100k tasks, twice the live data). `runner compact` writes LMDB's
 * compacting copy (live pages only) beside the store and renames it over the store.
 */
export const compactCommand: CommandModule<object, SpecArgs> = {
  command: 'compact <spec>',
  describe: 'Shrink the run store to its live data (LMDB compacting copy); stop runners first',
  builder: (y) => withJson(withSpec(y)).example('$0 compact configs/demo.yaml', '') as never,
  handler: async (args) => {
    const spec = await loadSpec(args);
    const store = openStore(spec);
    if (!store) {
      print(c.dim(`run ${spec.name} has not started yet; nothing to compact`));
      return;
    }
    const path = join(spec.runDir, STORE_FILE);
    const tmp = `${path}.compact`;
    const before = statSync(path).size;
    let closed = false;
    try {
      const refuse = () => {
        const o = liveOwners(store)[0];
        if (o) throw runLocked(`runner pid ${o.pid} on ${o.host} is working on ${spec.name}`, 'Stop it first (Ctrl+C), then compact.');
      };
      refuse();
      const seq = store.lastEventSeq();
      rmSync(tmp, { force: true });
      await store.copyTo(tmp);
      // Nothing may have changed while the copy was made, or the copy would lose it.
      store.refresh();
      refuse();
      if (store.lastEventSeq() !== seq) {
        throw runLocked(`${spec.name} changed while it was being compacted; nothing was replaced`, 'Stop every runner, then compact again.');
      }
      await store.close();
      closed = true;
      renameSync(tmp, path);
    } finally {
      rmSync(tmp, { force: true });
      if (!closed) await store.close();
    }
    const after = statSync(path).size;
    if (args.json) {
      printJson({ before, after });
      return;
    }
    print(`compacted ${spec.name}: ${(before / 1e6).toFixed(1)} MB → ${(after / 1e6).toFixed(1)} MB`);
  },
};
