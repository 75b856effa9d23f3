import type { CommandModule } from 'yargs';
import { loadJobSpec } from '../../config/load.js';
import { BUILTIN_PLUGINS, loadPluginModule, resolvePluginEntry, type LoadedPlugin } from '../../plugin/load.js';
import type { JSONSchema } from '../../plugin/types.js';
import { c } from '../format.js';
import { print, printJson, withJson } from '../shared.js';

interface PluginsArgs {
  spec?: string;
  json?: boolean;
}

function optionsOf(p: LoadedPlugin) {
  const props = (p.schema.properties ?? {}) as Record<string, JSONSchema>;
  return Object.entries(props).map(([name, s]) => ({
    name,
    type: Array.isArray(s.type) ? s.type.join('|') : String(s.type ?? (s.enum ? 'enum' : 'any')),
    default: s.default ?? null,
    description: String(s.description ?? ''),
    resumeSafe: p.resumeSafe.includes(name),
    operational: p.operational.includes(name),
  }));
}

export const pluginsCommand: CommandModule<object, PluginsArgs> = {
  command: 'plugins [spec]',
  describe: "List the built-in plugins (and a spec's own), with their options",
  builder: (y) => withJson(y).positional('spec', { type: 'string', describe: 'Also list the plugins this job spec uses' }) as never,
  handler: async (args) => {
    const found = new Map<string, LoadedPlugin>();
    const missing: string[] = [];
    for (const name of BUILTIN_PLUGINS) {
      const r = resolvePluginEntry(name, process.cwd(), [process.cwd()]);
      if (!r) {
        missing.push(name);
        continue;
      }
      const p = await loadPluginModule(r.entry, r.source).catch(() => undefined);
      if (p) found.set(p.name, p);
      else missing.push(name);
    }
    if (args.spec) {
      const spec = await loadJobSpec(args.spec);
      for (const s of spec.stages) found.set(s.plugin.name, s.plugin);
    }
    const list = [...found.values()];
    if (args.json) {
      printJson(list.map((p) => ({ name: p.name, version: p.version, description: p.description ?? null, source: p.source, entry: p.entry, options: optionsOf(p) })));
      return;
    }
    for (const p of list) {
      print(`${c.bold(p.name)} ${c.dim(p.version)} ${c.dim(`(${p.source})`)}  ${p.description ?? ''}`);
      for (const o of optionsOf(p)) {
        const def = o.default === null ? '' : ` = ${JSON.stringify(o.default)}`;
        print(`    ${o.name}${c.dim(`: ${o.type}${def}`)}${o.resumeSafe ? c.cyan(' (resume-safe)') : ''}${o.operational ? c.cyan(' (operational)') : ''}  ${c.dim(o.description)}`);
      }
    }
    if (missing.length > 0) print(c.dim(`not installed: ${missing.join(', ')}`));
  },
};
