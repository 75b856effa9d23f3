import type { CommandModule } from 'yargs';
import { editorSchemaText } from '../../config/editor-schema.js';

export const schemaCommand: CommandModule<object, object> = {
  command: 'schema',
  describe: "Print the JSON schema of job specs (core keys plus the built-in plugins' options) for editors",
  handler: async () => {
    process.stdout.write(await editorSchemaText());
  },
};
