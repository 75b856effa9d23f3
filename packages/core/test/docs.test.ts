import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { editorSchemaText } from '../src/config/editor-schema.js';
import { ERROR_TABLE } from '../src/errors.js';

const root = join(__dirname, '../../..');

describe('docs and generated files stay in sync with the code', () => {
  test('docs/errors.md explains every error code of the table, in order, with its exit code and how to solve it', () => {
    const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
    const documented = [...doc.matchAll(/^### (\w+)$/gm)].map((m) => m[1]!);
    // Both ways: nothing in the table is undocumented, nothing documented is missing from the table.
    expect(documented).toEqual(Object.keys(ERROR_TABLE));
    for (const code of documented) {
      const section = doc.split(`### ${code}\n`)[1]!.split('\n### ')[0]!;
      expect(section, code).toContain('**How to solve:**');
      expect(section, code).toContain(`**Exit code:** ${ERROR_TABLE[code as keyof typeof ERROR_TABLE].exit}.`);
    }
  });

  test('the checked-in editor schema is current (regenerate with `pnpm gen:schema`)', async () => {
    const file = readFileSync(join(root, 'packages/core/schema/job-spec.schema.json'), 'utf8');
    expect(JSON.parse(file)).toEqual(JSON.parse(await editorSchemaText()));
  });
});
