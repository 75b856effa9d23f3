import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isRunnerError } from '../src/errors.js';
import { importUserModule, moduleDefault } from '../src/plugin/import-module.js';
import { loadPluginModule } from '../src/plugin/load.js';
import { abortableSleep } from '../src/util/sleep.js';

const dir = mkdtempSync(join(tmpdir(), 'runner-import-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string; issues?: { file?: string; line?: number; col?: number }[] }> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as never,
  );
}

describe('importUserModule', () => {
  test('a TypeScript module loads without a build, and its frames point at its own lines', async () => {
    const p = file(
      'count.ts',
      ['interface Opts { to: number }', 'export function boom(o: Opts): never {', '  throw new Error(`boom at ${o.to}`);', '}', 'export default { name: "count" } satisfies { name: string };', ''].join('\n'),
    );
    const mod = await importUserModule(p);
    expect(moduleDefault(mod)).toEqual({ name: 'count' });
    let stack = '';
    try {
      (mod.boom as (o: { to: number }) => never)({ to: 3 });
    } catch (err) {
      stack = (err as Error).stack ?? '';
    }
    expect(stack).toContain(`${p}:3:9`);
  });

  test('a syntax error names the file, line and column (TypeScript and JavaScript)', async () => {
    for (const [name, text, line, col] of [
      ['bad.ts', 'const a: number = 1;\nexport default {\n  name: "x",,\n};\n', 3, 13],
      ['bad.mjs', 'const a = 1;\nexport default {\n  name: "x",,\n};\n', 3, 13],
    ] as const) {
      const p = file(name, text);
      const e = await failure(importUserModule(p));
      expect(e.code, name).toBe('RUNNER_MODULE_INVALID');
      expect(e.message, name).toContain(`${p}:${line}:${col}`);
      expect(e.issues, name).toEqual([expect.objectContaining({ file: p, line, col })]);
    }
  });

  test('a syntax error in a module it imports names that module', async () => {
    const helper = file('helper.ts', 'export const x: number = (1;\n');
    const main = file('main.ts', "import { x } from './helper.ts';\nexport default { x };\n");
    const e = await failure(importUserModule(main));
    expect(e.code).toBe('RUNNER_MODULE_INVALID');
    expect(e.message).toContain(`${helper}:1:`);
  });

  test('an error thrown while the module evaluates propagates unchanged', async () => {
    const p = file('throws.mjs', 'throw Object.assign(new Error("no GPU"), { code: "E_GPU" });\n');
    const e = await failure(importUserModule(p));
    expect(e.code).toBe('E_GPU');
  });
});

describe('plugins of every module format', () => {
  const plugin = '{ name: "cjs", version: "1.0.0", run: () => 1 }';

  test('a CommonJS build of `export default` (exports.default, __esModule) is unwrapped', async () => {
    const p = file('ts-cjs.cjs', `"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\nexports.default = ${plugin};\n`);
    expect((await loadPluginModule(p, 'path')).name).toBe('cjs');
  });

  test('module.exports = plugin, and module.exports = { default: plugin }', async () => {
    expect((await loadPluginModule(file('plain.cjs', `module.exports = ${plugin};\n`), 'path')).name).toBe('cjs');
    expect((await loadPluginModule(file('wrapped.cjs', `module.exports = { default: ${plugin} };\n`), 'path')).name).toBe('cjs');
  });

  test('a plugin module with a syntax error is reported as such, not as a bad shape', async () => {
    const e = await failure(loadPluginModule(file('broken.ts', 'export default {\n  name: "x"\n  version: "1.0.0",\n};\n'), 'path'));
    expect(isRunnerError(e, 'RUNNER_MODULE_INVALID')).toBe(true);
    expect(e.message).toMatch(/broken\.ts:3:\d+/);
  });
});

describe('ctx.sleep', () => {
  test('waits the time, or ends as soon as the task is cancelled', async () => {
    const c = new AbortController();
    const t0 = Date.now();
    const slept = abortableSleep(60_000, c.signal);
    c.abort();
    await slept;
    expect(Date.now() - t0).toBeLessThan(5_000);
    await abortableSleep(1, new AbortController().signal);
    await abortableSleep(10_000, c.signal); // already aborted: returns at once
  });
});

describe('a definition whose resumeSafe or operational names no option', () => {
  test('is rejected with the paths named', async () => {
    const p = file(
      'typo.mjs',
      `export default { name: "typo", version: "1.0.0", schema: { type: "object", properties: { to: { type: "integer", default: 1 }, model: { type: "object", properties: { units: { type: "integer", default: 1 } } }, extra: { type: "object", additionalProperties: true } } }, resumeSafe: ["too", "model.units", "extra.anything"], operational: ["model.unit"], run: () => 1 };\n`,
    );
    const e = await failure(loadPluginModule(p, 'path'));
    expect(e.code).toBe('RUNNER_PLUGIN_INVALID');
    expect(e.message).toContain('`resumeSafe` names "too", which is not an option of its schema');
    expect(e.message).toContain('`operational` names "model.unit", which is not an option of its schema');
    expect(e.message).not.toContain('extra.anything');
  });
});
