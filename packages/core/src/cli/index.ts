import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { exitCodeOf, usage } from '../errors.js';
import { errorJson, printError } from './format.js';
import { BUILTIN_PLUGINS, loadPluginModule, resolvePluginEntry } from '../plugin/load.js';
import type { PluginCommand } from '../plugin/types.js';
import { cancelCommand } from './commands/cancel.js';
import { checkpointsCommand } from './commands/checkpoints.js';
import { gatherCommand } from './commands/gather.js';
import { k8sCommand } from './commands/k8s.js';
import { planCommand } from './commands/plan.js';
import { compactCommand } from './commands/compact.js';
import { pluginsCommand } from './commands/plugins.js';
import { reportCommand } from './commands/report.js';
import { resetCommand } from './commands/reset.js';
import { serveCommand } from './commands/serve.js';
import { resumeCommand } from './commands/resume.js';
import { schemaCommand } from './commands/schema.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { tasksCommand } from './commands/tasks.js';
import { validateCommand } from './commands/validate.js';

const CORE_COMMANDS = new Set(['validate', 'start', 'plan', 'status', 'tasks', 'cancel', 'resume', 'checkpoints', 'reset', 'gather', 'k8s', 'report', 'serve', 'compact', 'plugins', 'schema']);

function coreVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Commands contributed by built-in and installed plugins (e.g. `runner study`). */
async function pluginCommands(): Promise<PluginCommand[]> {
  const out: PluginCommand[] = [];
  for (const name of BUILTIN_PLUGINS) {
    const r = resolvePluginEntry(name, process.cwd(), [process.cwd()]);
    if (!r) continue;
    try {
      const p = await loadPluginModule(r.entry, r.source);
      out.push(...(p.definition.commands ?? []));
    } catch (err) {
      if (process.env.RUNNER_DEBUG) process.stderr.write(`plugin ${name} did not load: ${(err as Error).message}\n`);
    }
  }
  return out;
}

export async function main(argv: string[] = hideBin(process.argv)): Promise<void> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  // Plugins' commands are loaded only when the command is not one of the core's: importing every
  // built-in plugin costs a noticeable part of a quick `runner status`.
  const extra = CORE_COMMANDS.has(argv[0] ?? '') && !argv.includes('--help') && !argv.includes('-h') ? [] : await pluginCommands();
  const cli = yargs(argv)
    .scriptName('runner')
    .usage('$0 <command> <spec> [options]\n\nCrash-safe runner for long ML and quant jobs. Docs: README.md, docs/')
    .command(validateCommand)
    .command(startCommand)
    .command(planCommand)
    .command(statusCommand)
    .command(tasksCommand)
    .command(cancelCommand)
    .command(resumeCommand)
    .command(checkpointsCommand)
    .command(resetCommand)
    .command(gatherCommand)
    .command(k8sCommand)
    .command(reportCommand)
    .command(serveCommand)
    .command(compactCommand)
    .command(pluginsCommand)
    .command(schemaCommand)
    .command(extra as never[])
    .demandCommand(1, 'Name a command, e.g. `runner start configs/quickstart.yaml`.')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(coreVersion())
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`error: ${msg}\nRun with --help for usage.\n`);
      if (wantsJson()) process.stdout.write(`${JSON.stringify(errorJson(usage(msg, 'Run with --help for usage.'), 2))}\n`);
      process.exit(2);
    });
  try {
    await cli.parseAsync();
  } catch (err) {
    printError(err);
    // Exit codes: 0 all completed, 1 some failed, 2 bad input (per code in errors.ts), 130 interrupted.
    process.exitCode = exitCodeOf(err);
    // Under --json the error is data too, on stdout, where the command's answer would have been.
    if (wantsJson()) process.stdout.write(`${JSON.stringify(errorJson(err, process.exitCode))}\n`);
  }
}

/** Whether the command line asks for JSON (`--json`, `--json=true`), read before yargs has parsed it. */
function wantsJson(): boolean {
  return process.argv.slice(2).some((a) => a === '--json' || a === '--json=true');
}
