/**
 * The TypeScript walkthrough in docs/plugins.md compiles under `strict` against the core's
 * types, and the types catch what they promise to catch (a misspelt option path, a checkpoint
 * state of the wrong shape, an option the schema does not have).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

const root = join(__dirname, '../../..');
const doc = readFileSync(join(root, 'docs/plugins.md'), 'utf8');

/** ```ts blocks that start with `// plugins/<file>.ts`, by file name. */
function walkthrough(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/```ts\n(\/\/ plugins\/([\w-]+\.ts)\n[\s\S]*?)```/g)) out.set(m[2]!, m[1]!);
  return out;
}

/** Type-checks virtual files placed in docs/plugins/ (so `@runner/core` resolves from the repo). */
function check(files: Map<string, string>): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    skipLibCheck: true,
  };
  const virtual = new Map([...files].map(([name, text]) => [join(root, 'docs/plugins', name), text]));
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => (virtual.has(f) ? ts.createSourceFile(f, virtual.get(f)!, lang) : getSourceFile.call(host, f, lang, ...rest));
  const program = ts.createProgram([...virtual.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName.slice(root.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}

describe('docs/plugins.md TypeScript walkthrough', () => {
  const files = walkthrough();

  test('compiles under strict', () => {
    expect([...files.keys()]).toEqual(['count.ts', 'typed.ts']);
    expect(check(files)).toEqual([]);
  }, 60_000);

  test("the contract's own @example (plugin/types.ts) compiles under strict", () => {
    const src = readFileSync(join(root, 'packages/core/src/plugin/types.ts'), 'utf8');
    const example = /@example\n \* ```ts\n([\s\S]*?) \* ```/.exec(src)![1]!.replace(/^ \* ?/gm, '');
    expect(example).toContain('definePlugin({');
    expect(check(new Map([['contract-example.ts', example]]))).toEqual([]);
  }, 60_000);

  test('the types reject what they should', () => {
    const count = files.get('count.ts')!;
    const typed = files.get('typed.ts')!;
    // [file, its text, what the compiler must say]
    const cases: [string, string, string][] = [
      ['a.ts', count.replace("resumeSafe: ['to']", "resumeSafe: ['too']"), `Type '"too"' is not assignable`],
      ['b.ts', count.replace('const { to, every, label, mode } = ctx.options;', 'const { to, every, label, mode, speed } = ctx.options;'), "Property 'speed' does not exist"],
      ['c.ts', count.replace("if (mode === 'slow')", "if (mode === 'turbo')"), `'"fast" | "slow"' and '"turbo"' have no overlap`],
      ['d.ts', typed.replace('ctx.checkpoint.save({ i: ++i }', 'ctx.checkpoint.save({ i: String(++i) }'), "Type 'string' is not assignable to type 'number'"],
      ['e.ts', typed.replace("resumeSafe: ['to', 'model.units']", "resumeSafe: ['to', 'model.unit']"), `Type '"model.unit"' is not assignable`],
    ];
    for (const [name, text] of cases) expect(text === count || text === typed, `${name} is unchanged`).toBe(false);
    const errors = check(new Map(cases.map(([name, text]) => [name, text])));
    for (const [name, , says] of cases) expect(errors.filter((e) => e.startsWith(`docs/plugins/${name}`)).join('\n'), name).toContain(says);
  }, 60_000);
});
