import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { editorSchemaText } from '../src/config/editor-schema.js';
import { ErrorCodes } from '../src/errors.js';

const root = join(__dirname, '../../..');

describe('docs and generated files stay in sync with the code', () => {
  test('docs/errors.md explains every error code, in order, with how to solve it', () => {
    const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
    const documented = [...doc.matchAll(/^### (RUNNER_\w+)$/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.keys(ErrorCodes));
    for (const code of documented) {
      const section = doc.split(`### ${code}`)[1]!.split('### ')[0]!;
      expect(section, code).toContain('**How to solve:**');
    }
  });

  test('the checked-in editor schema is current (regenerate with `pnpm gen:schema`)', async () => {
    const file = readFileSync(join(root, 'packages/core/schema/job-spec.schema.json'), 'utf8');
    expect(JSON.parse(file)).toEqual(JSON.parse(await editorSchemaText()));
  });
});
