/**
 * `runner schema [spec]` gives editors the options of the spec's own plugins, custom ones too,
 * even while the spec does not validate yet.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO, runCli, tempProject } from '@runner/test-helpers/cli';

interface Schema {
  properties: { stages: { items: { allOf: { if: { properties: { plugin: { const: string } } }; then: { properties: { options: { properties: Record<string, { default?: unknown }> } } } }[] } } };
}

function optionsOf(schema: Schema, plugin: string): Record<string, { default?: unknown }> | undefined {
  return schema.properties.stages.items.allOf.find((a) => a.if.properties.plugin.const === plugin)?.then.properties.options.properties;
}

describe('runner schema [spec]', () => {
  test("includes the spec's custom .ts and .mjs plugins next to the built-ins", async () => {
    const dir = tempProject({
      'plugins/count.ts': `import { definePlugin } from '@runner/core';
export default definePlugin({
  name: 'count',
  version: '1.0.0',
  schema: { type: 'object', properties: { to: { type: 'integer', default: 7, description: 'Count to this.' } } },
  run: (ctx) => ({ counted: ctx.options.to }),
});
`,
      'plugins/greet.mjs': `export default { name: 'greet', version: '1.0.0', schema: { type: 'object', properties: { who: { type: 'string', default: 'you', description: 'Whom.' } } }, run: () => 1 };\n`,
      // `stages[0].options.to` is wrong on purpose: the schema is for specs being written.
      'job.yaml': 'name: s\nplugins: [./plugins/count.ts, ./plugins/greet.mjs]\nstages:\n  - { id: c, plugin: count, options: { to: many } }\n',
    });
    mkdirSync(join(dir, 'node_modules/@runner'), { recursive: true });
    symlinkSync(join(REPO, 'packages/core'), join(dir, 'node_modules/@runner/core'), 'dir');
    const r = await runCli(['schema', 'job.yaml'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const schema = JSON.parse(r.stdout) as Schema;
    expect(optionsOf(schema, 'count')?.to?.default).toBe(7);
    expect(optionsOf(schema, 'greet')?.who?.default).toBe('you');
    expect(optionsOf(schema, 'steps')?.steps?.default).toBe(100);

    const plain = JSON.parse((await runCli(['schema'], { cwd: dir })).stdout) as Schema;
    expect(optionsOf(plain, 'count')).toBeUndefined();
  });
});
