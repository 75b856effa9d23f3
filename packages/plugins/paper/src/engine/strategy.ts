/**
 * The strategy forms the backtester accepts, resolved with the backtester's own engine exports:
 * a built-in `{ type, ...params }` or a custom `{ module, ...params }` written with
 * `defineStrategy`. The definitions themselves live in `@runner/plugin-backtest/engine`.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinStrategy, isStrategyDefinition, type StrategyDefinition } from '@runner/plugin-backtest/engine';
import { configError } from '../errors.js';

export interface ResolvedStrategy {
  def: StrategyDefinition<any, any>;
  params: Record<string, unknown>;
}

export async function resolveStrategy(o: Record<string, unknown>, baseDir = process.cwd()): Promise<ResolvedStrategy> {
  const { type, module, from: _from, ...params } = o as { type?: string; module?: string; from?: string };
  if (typeof module === 'string') {
    const file = isAbsolute(module) ? module : resolve(baseDir, module);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (err) {
      throw configError(`strategy.module ${module}: cannot load ${file}: ${(err as Error).message}`, 'Give a path (relative to the directory runner was started in) to a module whose default export is defineStrategy({...})');
    }
    const def = mod.default ?? mod;
    if (!isStrategyDefinition(def)) throw configError(`strategy.module ${module}: the default export is not a strategy`, 'Export default defineStrategy({ name, init, onBar }) from @runner/plugin-backtest/engine');
    return { def, params };
  }
  if (type === 'model') {
    throw configError('strategy type "model" is not available to the paper trader yet', 'Use sma-cross, rsi or a custom module; see docs/paper.md');
  }
  return { def: builtinStrategy(String(type), 'strategy.type'), params };
}
