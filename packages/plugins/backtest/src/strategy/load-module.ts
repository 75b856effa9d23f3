/**
 * Loads a custom strategy module. Today: .mjs/.js through dynamic import; .ts is refused with a
 * hint. When the core's TypeScript module loader lands, point `importModule` at it (one line):
 * the rest of the plugin only calls `importModule`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isStrategyDefinition, type StrategyDefinition } from '../engine/strategy.js';
import { strategyError } from '../errors.js';

class TypeScriptNotLoaded extends Error {}

async function importJs(file: string): Promise<Record<string, unknown>> {
  if (/\.(c|m)?tsx?$/.test(file)) throw new TypeScriptNotLoaded(file);
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/** The module loader. */
const importModule: (file: string) => Promise<Record<string, unknown>> = importJs;

export async function loadStrategyModule(ref: string, where: string): Promise<{ file: string; strategy: StrategyDefinition<any, any> }> {
  const file = resolve(ref);
  if (!existsSync(file)) throw strategyError(where, `strategy.module ${ref}: no such file (${file})`, 'Paths are relative to the directory runner was started in');
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(file);
  } catch (err) {
    if (err instanceof TypeScriptNotLoaded) throw strategyError(where, `strategy.module ${ref}: TypeScript modules are not loaded yet`, 'Compile it to .mjs (tsc, esbuild) and point strategy.module at that file');
    throw strategyError(where, `strategy.module ${ref} failed to load: ${(err as Error).message}`, 'Fix the module; it must import without side effects', err);
  }
  const def = mod.default ?? mod.strategy;
  if (!isStrategyDefinition(def)) {
    throw strategyError(where, `strategy.module ${ref} does not default-export a strategy (exports: ${Object.keys(mod).join(', ') || 'none'})`, 'export default defineStrategy({ name, init(params), onBar(state, bar, ctx) }) from @runner/plugin-backtest/engine');
  }
  return { file, strategy: def };
}
