import type { CommandModule } from 'yargs';
import { buildEditorSchema } from '../../config/editor-schema.js';
import { BUILTIN_PLUGINS, loadPluginModule, resolvePluginEntry, type LoadedPlugin } from '../../plugin/load.js';

export const schemaCommand: CommandModule<object, object> = {
  command: 'schema',
  describe: 'Print the JSON schema of job specs (core keys plus the installed plugins\' options) for editors',
  handler: async () => {
    const plugins: LoadedPlugin[] = [];
    for (const name of BUILTIN_PLUGINS) {
      const r = resolvePluginEntry(name, process.cwd(), [process.cwd()]);
      if (r) plugins.push(await loadPluginModule(r.entry, r.source));
    }
    process.stdout.write(JSON.stringify(buildEditorSchema(plugins), null, 2) + '\n');
  },
};
