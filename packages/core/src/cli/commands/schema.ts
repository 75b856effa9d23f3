import type { CommandModule } from 'yargs';
import { editorSchemaText } from '../../config/editor-schema.js';

export const schemaCommand: CommandModule<object, { spec?: string }> = {
  command: 'schema [spec]',
  describe: "Print the JSON schema of job specs for editors: core keys, the built-in plugins' options, and with a spec its own plugins' options",
  builder: (y) =>
    y
      .positional('spec', { type: 'string', describe: 'A job spec whose plugins (custom ones too) the schema should cover' })
      .example('$0 schema job.yaml > job.schema.json', 'then start job.yaml with: # yaml-language-server: $schema=job.schema.json') as never,
  handler: async (args) => {
    process.stdout.write(await editorSchemaText(args.spec));
  },
};
