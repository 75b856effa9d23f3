import type { CommandModule } from 'yargs';
import { taskState } from '../../errors.js';
import { c, formatAge } from '../format.js';
import { liveOwners, loadSpec, matchTasks, openStore, print, printJson, viewRun, withJson, withSpec, type SpecArgs } from '../shared.js';

interface ResumeArgs extends SpecArgs {
  patterns: string[];
}

export const resumeCommand: CommandModule<object, ResumeArgs> = {
  command: 'resume <spec> <patterns..>',
  describe: 'Move cancelled or failed tasks back to pending; they continue from their last checkpoint',
  builder: (y) =>
    withJson(withSpec(y))
      .positional('patterns', { type: 'string', array: true, describe: 'Task ids or patterns' })
      .example("$0 resume configs/demo.yaml 'work/*AAPL*'", '')
      .example('$0 start configs/demo.yaml', 'then run them (a live runner picks them up by itself)') as never,
  handler: async (args) => {
    const spec = await loadSpec(args);
    const store = openStore(spec);
    if (!store) throw taskState(`run ${spec.name} has not started yet`, `Start it with: runner start ${args.spec}`);
    try {
      const view = viewRun(spec, store);
      const ids = matchTasks(view, args.patterns);
      const states = new Map([...view.tasks, ...view.children].map((t) => [t.id, t.state]));
      const bad = ids.filter((id) => states.get(id) !== 'cancelled' && states.get(id) !== 'failed');
      if (bad.length === ids.length) {
        const desc = bad.slice(0, 5).map((id) => `${id} is ${states.get(id)}`).join('; ');
        throw taskState(`nothing to resume: ${desc}${bad.length > 5 ? `; and ${bad.length - 5} more` : ''}`, 'Only cancelled or failed tasks can be resumed; pending ones run on the next `runner start`, completed ones are done (use `runner reset --stage` to redo them).');
      }
      const res = await store.resume(ids);
      const now = Date.now();
      const rows = res.resumed.map((t) => {
        const ck = store.listCheckpoints(t.id)[0];
        return { id: t.id, from: ck ? { seq: ck.seq, type: ck.type, step: ck.step, total: ck.total ?? null, time: new Date(ck.time).toISOString() } : null };
      });
      if (args.json) {
        printJson({ resumed: rows, skipped: res.skipped.map((t) => ({ id: t.id, state: t.state })) });
        return;
      }
      for (const r of rows) {
        const ck = r.from;
        print(`${c.green('resumed')} ${r.id} ${c.dim('←')} ${ck ? `${ck.type} checkpoint at step ${ck.step}${ck.total ? `/${ck.total}` : ''} (${formatAge(Date.parse(ck.time), now)})` : 'no checkpoint: starts fresh'}`);
      }
      for (const t of res.skipped) print(c.dim(`skipped ${t.id}: it is ${t.state}`));
      print(liveOwners(store).length > 0 ? c.dim('a live runner picks them up within a second') : c.dim(`run them with: runner start ${args.spec}`));
    } finally {
      await store.close();
    }
  },
};
