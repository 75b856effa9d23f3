import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CommandModule } from 'yargs';
import { runLocked, usage } from '../../errors.js';
import { confirm } from '../confirm.js';
import { c } from '../format.js';
import { ownerAlive } from '../../store/lmdb-store.js';
import { liveOwners, loadSpec, openStore, print, printJson, viewRun, withJson, withSpec, type SpecArgs } from '../shared.js';

interface ResetArgs extends SpecArgs {
  stage?: string[];
  backup?: boolean;
  force?: boolean;
}

export const resetCommand: CommandModule<object, ResetArgs> = {
  command: 'reset <spec>',
  describe: 'Clear progress so tasks run again from scratch: all, or some stages and everything downstream',
  builder: (y) =>
    withJson(withSpec(y))
      .option('stage', { type: 'string', array: true, describe: 'Only these stages (and the stages that need them)' })
      .option('backup', { type: 'boolean', describe: 'Copy the store and move checkpoint files to runs/<name>/backups/<time>/ first' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Do not ask for confirmation' })
      .example('$0 reset configs/demo.yaml --stage work --backup', '') as never,
  handler: async (args) => {
    const spec = await loadSpec(args);
    const store = openStore(spec);
    if (!store) {
      print(c.dim(`run ${spec.name} has not started yet; nothing to reset`));
      return;
    }
    try {
      const live = liveOwners(store);
      if (live.length > 0) {
        const o = live[0]!;
        throw runLocked(`runner pid ${o.pid} on ${o.host} is working on ${spec.name}`, 'Stop it first (Ctrl+C, or kill the pid), then reset.');
      }
      const view = viewRun(spec, store, { skipDamaged: true });
      const known = spec.stages.map((s) => s.id);
      for (const s of args.stage ?? []) if (!known.includes(s)) throw usage(`--stage ${s}: no such stage`, `Stages: ${known.join(', ')}.`);
      let ids: string[];
      if (args.stage) {
        const chosen = new Set(view.tasks.filter((t) => args.stage!.includes(t.stage)).map((t) => t.id));
        const queue = [...chosen];
        while (queue.length) for (const d of view.plan.dependents.get(queue.pop()!) ?? []) if (!chosen.has(d)) chosen.add(d) && queue.push(d);
        ids = [...chosen];
      } else ids = view.tasks.map((t) => t.id);
      ids.push(...store.childIds(new Set(ids)));
      if (!args.force && !args.backup) {
        const ok = await confirm(`Reset ${ids.length} task${ids.length === 1 ? '' : 's'} of ${spec.name}? Their results and checkpoints are deleted.`);
        if (!ok) throw usage('not reset', 'Pass --force to reset without asking, or --backup to keep a copy (either works without a terminal).');
      }
      let backupDir: string | undefined;
      if (args.backup) {
        backupDir = join(spec.runDir, 'backups', new Date().toISOString().replace(/[:.]/g, '-'));
        await store.backup(backupDir);
      }
      // Checked again under the write lock: a runner may have started while the prompt waited.
      const { count, files } = await store.reset(ids, (owners) => {
        const o = owners.find((x) => ownerAlive(x));
        if (o) throw runLocked(`runner pid ${o.pid} on ${o.host} started working on ${spec.name} meanwhile; nothing was reset`, 'Stop it first (Ctrl+C, or kill the pid), then reset.');
      });
      for (const f of files) {
        if (backupDir) {
          const target = join(backupDir, f);
          mkdirSync(dirname(target), { recursive: true });
          try {
            renameSync(join(spec.runDir, f), target);
          } catch {
            // already gone
          }
        } else rmSync(join(spec.runDir, f), { force: true });
      }
      if (args.json) {
        printJson({ reset: count, backup: backupDir ?? null });
        return;
      }
      print(`reset ${count} task${count === 1 ? '' : 's'} of ${spec.name}${args.stage ? ` (stages ${args.stage.join(', ')} and downstream)` : ''}`);
      if (backupDir) print(`backup: ${backupDir} (restore: stop runners, then copy its store.mdb over ${join(spec.runDir, 'store.mdb')})`);
    } finally {
      await store.close();
    }
  },
};
