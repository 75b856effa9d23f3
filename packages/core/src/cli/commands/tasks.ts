import type { CommandModule } from 'yargs';
import { idMatcher } from '../../run/plan.js';
import { TASK_STATES } from '../../store/types.js';
import { headlineMetric, formatMetric, naturalCompare } from '../../report/headline.js';
import { c, formatAge, formatDuration, pct, resultHeadline, stateColor, table } from '../format.js';
import { progressText } from '../progress-text.js';
import { loadSpec, openStore, print, printJson, viewRun, withJson, withSpec, type SpecArgs } from '../shared.js';
import { taskJson } from './status.js';
import { taskErrorLines } from '../task-error.js';

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
    const store = openStore(spec, { readOnly: 'fallback' });
    try {
      // Filter on the compact state index; decode full records only of the rows shown.
      const view = viewRun(spec, store, { light: { sample: 0 } });
      const m = args.pattern ? idMatcher(args.pattern) : () => true;
      const children = args.children ? [...view.children].sort((a, b) => naturalCompare(a.id, b.id)) : [];
      const rows = [...view.tasks, ...children]
        .filter((t) => m(t.id))
        .filter((t) => !args.state || args.state.includes(t.state))
        .filter((t) => !args.stage || args.stage.includes(t.stage))
        .map((t) => store?.getTask(t.id) ?? t);
      if (args.json) {
        printJson(rows.map(taskJson));
        return;
      }
      if (rows.length === 0) {
        print(c.dim('no tasks match'));
        return;
      }
      const now = Date.now();
      const noteOf = (t: (typeof rows)[number]) => {
        if (t.state === 'failed') return c.red(t.error?.message ?? '');
        // A plugin's one-line summary of a finished task (a backtest's return, Sharpe, drawdown).
        const headline = t.state === 'completed' ? resultHeadline(t.result) : undefined;
        if (headline) return headline;
        const last = t.notes[t.notes.length - 1];
        // Notes are stored as `<ISO time> <text>`.
        return last ? c.dim(last.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\s*/, '')) : '';
      };
      print(
        table(
          rows.map((t) => {
            const h = headlineMetric(t.result);
            const ran = t.runMs + (t.state === 'running' && t.startedAt ? now - t.startedAt : 0);
            return [
              t.id,
              stateColor(t.state),
              t.state === 'completed' ? '100%' : [pct(t.progress?.step, t.progress?.total), progressText(t.progress)].filter((x) => x && x !== '-').join(' ') || '-',
              ran > 0 ? formatDuration(ran) : '-',
              h ? `${h.name}=${formatMetric(h.value)}` : '-',
              t.lastCheckpoint ? `step ${t.lastCheckpoint.step} (${formatAge(t.lastCheckpoint.time, now)})` : '-',
              String(t.attempts),
              noteOf(t),
            ];
          }),
          ['task', 'state', 'progress', 'duration', 'metric', 'last checkpoint', 'attempts', 'note'],
        ),
      );
      // Asked about particular tasks, or about failures: say why each failed one failed, and where.
      const failed = args.pattern || args.state?.includes('failed') ? rows.filter((t) => t.state === 'failed' && t.error) : [];
      for (const t of failed.slice(0, 5)) print(`\n${c.red('✗')} ${t.id}\n${taskErrorLines(t.error!).map((l) => `  ${l}`).join('\n')}`);
      if (failed.length > 5) print(c.dim(`… and ${failed.length - 5} more failed; --json has every error`));
    } finally {
      await store?.close();
    }
  },
};
