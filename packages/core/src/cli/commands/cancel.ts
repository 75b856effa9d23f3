import type { CommandModule } from 'yargs';
import { ownerAlive } from '../../store/lmdb-store.js';
import { c } from '../format.js';
import { loadSpec, matchTasks, openStore, print, printJson, viewRun, withJson, withSpec, type SpecArgs } from '../shared.js';
import { taskState } from '../../errors.js';

interface CancelArgs extends SpecArgs {
  patterns: string[];
  wait?: boolean;
  timeout?: number;
}

export const cancelCommand: CommandModule<object, CancelArgs> = {
  command: 'cancel <spec> <patterns..>',
  describe: 'Cancel tasks: pending ones at once, running ones cooperatively (they save a cancellation checkpoint)',
  builder: (y) =>
    withJson(withSpec(y))
      .positional('patterns', { type: 'string', array: true, describe: "Task ids or patterns, e.g. 'work/*AAPL*'" })
      .option('wait', { type: 'boolean', default: true, describe: 'Wait until running tasks have stopped (--no-wait to return at once)' })
      .option('timeout', { type: 'number', default: 60, describe: 'Seconds to wait with --wait' })
      .example("$0 cancel configs/demo.yaml 'work/*AAPL*'", '') as never,
  handler: async (args) => {
    const spec = await loadSpec(args);
    const store = openStore(spec);
    if (!store) throw taskState(`run ${spec.name} has not started yet; there is nothing to cancel`, `Start it with: runner start ${args.spec}`);
    try {
      const view = viewRun(spec, store);
      const ids = matchTasks(view, args.patterns);
      const res = await store.cancel(ids, (o) => {
        const rec = store.getOwner(o.id);
        return !rec || !ownerAlive(rec);
      });
      let stopped: string[] = [];
      if (args.wait && res.requested.length > 0) {
        const deadline = Date.now() + (args.timeout ?? 60) * 1000;
        const left = new Set(res.requested);
        while (left.size > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          store.refresh();
          for (const id of [...left]) if (store.getTask(id)?.state !== 'running') left.delete(id);
        }
        stopped = res.requested.filter((id) => !left.has(id));
      }
      if (args.json) {
        printJson({ cancelled: res.cancelled, requested: res.requested, stopped, skipped: res.skipped.map((t) => ({ id: t.id, state: t.state })) });
        return;
      }
      for (const id of res.cancelled) print(`${c.yellow('cancelled')} ${id}`);
      for (const id of res.requested) {
        const rec = store.getTask(id);
        const where = rec?.lastCheckpoint ? ` (checkpoint at step ${rec.lastCheckpoint.step})` : '';
        print(stopped.includes(id) ? `${c.yellow('cancelled')} ${id}${where}` : `${c.cyan('cancelling')} ${id}: its runner will stop it and save a checkpoint`);
      }
      for (const t of res.skipped) print(c.dim(`skipped ${t.id}: already ${t.state}`));
      if (res.cancelled.length + res.requested.length > 0) print(c.dim(`resume later with: runner resume ${args.spec} ${args.patterns.map((p) => `'${p}'`).join(' ')}`));
    } finally {
      await store.close();
    }
  },
};
