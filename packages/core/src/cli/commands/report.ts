import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { usage } from '../../errors.js';
import { buildReport } from '../../report/build.js';
import { renderReport } from '../../report/render.js';
import { sourceFromSpec } from '../../report/source.js';
import { RunStore } from '../../store/lmdb-store.js';
import { writeFileAtomic } from '../../util/fs.js';
import { formatBytes, formatDuration, table } from '../format.js';
import { formatMetric } from '../../report/headline.js';
import type { ReportModel } from '../../report/build.js';
import { invocation } from '../invocation.js';
import { loadSpec, print, printJson, storeExists, withJson, withSpec, type SpecArgs } from '../shared.js';

interface ReportArgs extends SpecArgs {
  out?: string;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <spec>',
  describe: 'Write a self-contained HTML report of a run: summary per cell, training curves, HPO studies, plugin sections',
  builder: (y) =>
    withJson(withSpec(y))
      .option('out', { type: 'string', describe: 'Directory to write <name>.html into (default: the run directory)' })
      .example('$0 report configs/hpo-example.yaml', 'Writes runs/hpo-example/report.html')
      .example('$0 report job.yaml --out reports/', 'Writes reports/<name>.html')
      .example('$0 report job.yaml --json', 'The report as data (what the dashboard reads)') as never,
  handler: async (args) => {
    const t0 = performance.now();
    const spec = await loadSpec(args);
    if (!storeExists(spec)) throw usage(`${spec.name} has not started yet: there is no store in ${spec.runDir}`, `Start it first: ${invocation()} start ${args.spec}`);
    // Read-only: a report is safe while a runner writes.
    const store = RunStore.open(spec.runDir, { readOnly: true });
    try {
      const model = await buildReport(sourceFromSpec(spec, store));
      if (args.json) {
        printJson(model);
        return;
      }
      const html = renderReport(model);
      const file = args.out ? join(resolve(args.out), `${spec.name}.html`) : join(spec.runDir, 'report.html');
      try {
        if (args.out) mkdirSync(resolve(args.out), { recursive: true });
        await writeFileAtomic(file, html);
      } catch (err) {
        throw usage(`cannot write the report to ${file} (${(err as Error).message})`, args.out ? 'Pass a writable directory with --out.' : 'Pass a writable directory with --out, e.g. --out reports/.');
      }
      print(cellSummary(model));
      print(`wrote ${file} (${formatBytes(Buffer.byteLength(html))}, ${model.stages.reduce((a, s) => a + s.sections.length, 0)} plugin sections) in ${formatDuration(performance.now() - t0)}`);
      print(`open it in a browser: file://${file}`);
    } finally {
      await store.close();
    }
  },
};

/** One row per cell and cycle, one column per stage: its headline metric, else its state. */
export function cellSummary(model: ReportModel): string {
  const stages = model.stages.map((s) => s.id).filter((id) => model.cells.some((c) => c.stages[id]?.headline || c.stages[id]));
  const rows = model.cells.map((c) => [
    c.cell + (model.cells.some((x) => x.cycle !== c.cycle) ? ` (cycle ${c.cycle})` : ''),
    ...stages.map((id) => {
      const s = c.stages[id];
      if (!s) return '';
      return s.headline ? `${s.headline.name} ${formatMetric(s.headline.value)}` : s.state;
    }),
  ]);
  return table(rows, ['cell', ...stages]);
}
