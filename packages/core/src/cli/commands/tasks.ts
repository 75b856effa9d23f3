import type { CommandModule } from 'yargs';
import { idMatcher } from '../../run/plan.js';
import { TASK_STATES } from '../../store/types.js';
import { c, formatAge, pct, resultHeadline, stateColor, table } from '../format.js';
import { loadSpec, openStore, print, printJson, viewRun, withJson, withSpec, type SpecArgs } from '../shared.js';
import { taskJson } from './status.js';

interface TasksArgs extends SpecArgs {
  pattern?: string;
  state?: string[];
  stage?: string[];
  children?: boolean;
}

export const tasksCommand: CommandModule<object, TasksArgs> = {
  command: 'tasks <spec> [pattern]',
  describe: 'List tasks with state, progress, last checkpoint and attempts',
  builder: (y) =>
    withJson(withSpec(y))
      .positional('pattern', { type: 'string', describe: "Only ids matching this pattern, e.g. 'work/*AAPL*'" })
      .option('state', { type: 'string', array: true, choices: [...TASK_STATES], describe: 'Only tasks in these states' })
      .option('stage', { type: 'string', array: true, describe: 'Only tasks of these stages' })
      .option('children', { type: 'boolean', describe: 'Include child tasks (e.g. HPO trials)' })
      .example("$0 tasks configs/demo.yaml --state failed", '')
      .example("$0 tasks configs/demo.yaml 'work/*AAPL*' --json", '') as never,
  handler: async (args) => {
    const spec = await loadSpec(args);
    const store = openStore(spec);
    try {
      const view = viewRun(spec, store);
      const m = args.pattern ? idMatcher(args.pattern) : () => true;
      const rows = [...view.tasks, ...(args.children ? view.children : [])]
        .filter((t) => m(t.id))
        .filter((t) => !args.state || args.state.includes(t.state))
        .filter((t) => !args.stage || args.stage.includes(t.stage));
      if (args.json) {
        printJson(rows.map(taskJson));
        return;
      }
      if (rows.length === 0) {
        print(c.dim('no tasks match'));
        return;
      }
      const now = Date.now();
      print(
        table(
          rows.map((t) => [
            t.id,
            stateColor(t.state),
            t.state === 'completed' ? '100%' : pct(t.progress?.step, t.progress?.total),
            t.lastCheckpoint ? `step ${t.lastCheckpoint.step} (${formatAge(t.lastCheckpoint.time, now)})` : '-',
            String(t.attempts),
            t.state === 'failed' ? c.red(t.error?.message ?? '') : t.state === 'completed' && resultHeadline(t.result) ? resultHeadline(t.result)! : t.state !== 'completed' && t.notes.length > 0 ? c.dim(t.notes[t.notes.length - 1]!.slice(25)) : '',
          ]),
          ['task', 'state', 'progress', 'last checkpoint', 'attempts', 'note'],
        ),
      );
    } finally {
      await store?.close();
    }
  },
};
