import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const workerDir = join(src, 'worker');

/** Relative module specifiers a file imports, statically or dynamically (type-only imports included). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) out.push(m[1]!);
  return out;
}

/** Every source file reachable from `entries` through relative imports, as paths under src/. */
function reachable(entries: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [...entries];
  while (todo.length > 0) {
    const file = todo.pop()!;
    const rel = relative(src, file);
    if (files.has(rel)) continue;
    files.add(rel);
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      todo.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  }
  return { files, packages };
}

const workerFiles = readdirSync(workerDir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => join(workerDir, f));

describe('worker-side code', () => {
  test('the worker folder holds the thread and process entries, the executor and the task context', () => {
    const names = workerFiles.map((f) => relative(workerDir, f));
    expect(names).toEqual(expect.arrayContaining(['worker.ts', 'process-worker.ts', 'execute.ts', 'task-context.ts', 'protocol.ts']));
  });

  test('imports nothing of the config loader, directly or through other modules', () => {
    const { files, packages } = reachable(workerFiles);
    // Found at all: the walk follows imports (a broken walk would pass trivially).
    expect(files).toContain(join('plugin', 'load.ts'));
    expect(files).toContain(join('store', 'lmdb-store.ts'));
    const config = [...files].filter((f) => f.startsWith('config/'));
    // Plugins' option schemas are checked when a plugin module loads: the validator is all of config/ a worker needs.
    expect(config.sort()).toEqual([join('config', 'source.ts'), join('config', 'validate.ts')]);
    // Nor the main thread's orchestration (the store's crash rule in run/ is a pure leaf).
    expect([...files].filter((f) => /^(cli|testing|shard|serve|report)\//.test(f) || /^run\/(runner|executors|plan)\.ts$/.test(f))).toEqual([]);
    expect(packages).not.toContain('cosmiconfig');
  });

  test('no worker file names config/ in its imports', () => {
    for (const f of workerFiles) expect(importsOf(f).filter((s) => s.includes('/config/')), relative(src, f)).toEqual([]);
  });
});
