/**
 * Loads a custom strategy module with the core's module loader: .mjs/.js natively, .ts without a
 * build step (jiti), as plugins are loaded.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { importUserModule, moduleDefault } from '@runner/core';
import { isStrategyDefinition, type StrategyDefinition } from '../engine/strategy.js';
import { strategyError } from '../errors.js';

export async function loadStrategyModule(ref: string, where: string): Promise<{ file: string; strategy: StrategyDefinition<any, any> }> {
  const file = resolve(ref);
  if (!existsSync(file)) throw strategyError(where, `strategy.module ${ref}: no such file (${file})`, 'Paths are relative to the directory runner was started in');
  let mod: Record<string, unknown>;
  try {
    mod = await importUserModule(file);
  } catch (err) {
    throw strategyError(where, `strategy.module ${ref} failed to load: ${(err as Error).message}`, 'Fix the module; it must import without side effects', err);
  }
  const def = 'default' in mod ? moduleDefault(mod) : mod.strategy;
  if (!isStrategyDefinition(def)) {
    throw strategyError(where, `strategy.module ${ref} does not default-export a strategy (exports: ${Object.keys(mod).join(', ') || 'none'})`, 'export default defineStrategy({ name, init(params), onBar(state, bar, ctx) }) from @runner/plugin-backtest/engine');
  }
  return { file, strategy: def };
}
