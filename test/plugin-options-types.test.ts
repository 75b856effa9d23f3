/**
 * A type test per built-in plugin: the options type its `definePlugin<Options, …>` names and the
 * JSON schema that validates the options agree, both ways. Every schema property is a property of
 * the type and every type property is in the schema; a property is optional in the type exactly
 * when the schema gives it no `default` and does not list it as `required`. (Top level: nested
 * shapes are the schema's business.) Plugins that write their schema inline get this from the
 * types themselves; see docs/plugins.md.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import type { JSONSchema, PluginDefinition } from '../packages/core/src/plugin/types.js';
import { REPO } from '@runner/test-helpers/cli';

const PLUGINS = [
  { name: 'steps', typeFile: 'packages/plugins/steps/src/index.ts', typeName: 'StepsOptions' },
  { name: 'download', typeFile: 'packages/plugins/download/src/schema.ts', typeName: 'DownloadOptions' },
  { name: 'train', typeFile: 'packages/plugins/train/src/schema.ts', typeName: 'TrainOptions' },
  { name: 'hpo', typeFile: 'packages/plugins/hpo/src/plugin/run.ts', typeName: 'HpoOptions' },
];

/** Top-level properties of an exported interface or type alias, with whether each is optional. */
function typeProperties(program: ts.Program, file: string, typeName: string): Map<string, boolean> {
  const sf = program.getSourceFile(file)!;
  const decl = sf.statements.find((s): s is ts.InterfaceDeclaration | ts.TypeAliasDeclaration => (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && s.name.text === typeName);
  if (!decl) throw new Error(`${file} declares no ${typeName}`);
  const checker = program.getTypeChecker();
  const type = checker.getTypeAtLocation(decl.name);
  return new Map(checker.getPropertiesOfType(type).map((p) => [p.name, (p.flags & ts.SymbolFlags.Optional) !== 0]));
}

// Every plugin, typed with its own options, is a `PluginDefinition` ("any plugin"): checked by tsc.
type Fits<P> = P extends PluginDefinition ? true : false;
type Plugins = [
  typeof import('../packages/plugins/steps/src/index.js')['default'],
  typeof import('../packages/plugins/download/src/index.js')['default'],
  typeof import('../packages/plugins/train/src/index.js')['default'],
  typeof import('../packages/plugins/hpo/src/index.js')['default'],
];
const allFit: [Fits<Plugins[0]>, Fits<Plugins[1]>, Fits<Plugins[2]>, Fits<Plugins[3]>] = [true, true, true, true];

describe("each built-in plugin's options type matches its schema", () => {
  test('every built-in plugin is assignable to PluginDefinition (the type of any plugin)', () => {
    expect(allFit).toEqual([true, true, true, true]);
  });

  const program = ts.createProgram(
    PLUGINS.map((p) => join(REPO, p.typeFile)),
    { strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
  );

  for (const p of PLUGINS) {
    test(`${p.name}: ${p.typeName} ⇔ schema`, async () => {
      const plugin = (await import(join(REPO, `packages/plugins/${p.name}/src/index.ts`))).default as PluginDefinition;
      const schema = plugin.schema as JSONSchema & { properties: Record<string, JSONSchema>; required?: string[] };
      const required = new Set(schema.required ?? []);
      const props = typeProperties(program, join(REPO, p.typeFile), p.typeName);
      expect([...props.keys()].sort(), `${p.typeName} vs schema.properties`).toEqual(Object.keys(schema.properties).sort());
      const mismatched = [...props]
        .filter(([key, optional]) => optional === ('default' in schema.properties[key]! || required.has(key)))
        .map(([key, optional]) => `${key}: ${optional ? 'optional in the type, but the schema fills it' : 'required in the type, but the schema has no default'}`);
      expect(mismatched).toEqual([]);
    }, 60_000);
  }
});
