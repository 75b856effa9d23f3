/**
 * The test kit example of docs/plugins.md §6 passes as written: its code block is run by a
 * vitest of its own, with vitest's defaults (5 s test timeout), against the plugin the page
 * builds (test/fixtures/docs/mean-reversion.mjs).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runPlugin } from '../packages/core/src/testing/index.js';
import { REPO } from '@runner/test-helpers/cli';

const doc = readFileSync(join(REPO, 'docs/plugins.md'), 'utf8');
const fixture = join(REPO, 'test/fixtures/docs/mean-reversion.mjs');
// Inside the repository, so that `vitest` and `@runner/core` resolve from its node_modules.
mkdirSync(join(REPO, 'node_modules/.cache'), { recursive: true });
const dir = mkdtempSync(join(REPO, 'node_modules/.cache/docs-example-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/plugins.md §6', () => {
  test('the test kit example passes as written, under vitest defaults', async () => {
    const section = doc.split('## 6. Testing')[1]!.split('\n## ')[0]!;
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    expect(code).toContain("from '../plugins/mean-reversion.mjs'");
    writeFileSync(join(dir, 'example.test.ts'), code.replace('../plugins/mean-reversion.mjs', fixture));
    writeFileSync(join(dir, 'vitest.config.mjs'), 'export default {};\n');
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [join(REPO, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir, '--config', join(dir, 'vitest.config.mjs')], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1', CI: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (c) => resolve({ code: c, out }));
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Tests\s+2 passed/);
  }, 180_000);

  test('without a matrix cell, a plugin that reads one fails with a hint saying what to pass', async () => {
    const { default: plugin } = (await import(fixture)) as { default: Parameters<typeof runPlugin>[0] };
    const r = await runPlugin(plugin, { bars: 10 });
    expect(r.outcome).toBe('failed');
    expect(r.error?.name).toBe('TypeError');
    expect(r.error?.hint).toContain("has no matrix cell; if the plugin reads ctx.task.cell, pass one: runPlugin(plugin, options, { task: { cell: { symbol: 'AAPL' } } })");
  });
});
