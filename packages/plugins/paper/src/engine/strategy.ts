/**
 * The strategy forms the backtester accepts (`{ type, ...params }` or `{ module, params }`),
 * resolved with the backtester's own exports. A model strategy resolves through the backtester's
 * `resolveStrategy` (its parameters are the thresholds); its signal comes with the replayed bars
 * (see loop/feeds.ts).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinStrategy, isStrategyDefinition, type StrategyDefinition } from '@runner/plugin-backtest/engine';
import type { StrategyOptions } from '@runner/plugin-backtest';
import { resolveStrategy as backtestStrategy } from '@runner/plugin-backtest/strategy';
import { configError } from '../errors.js';

export interface ResolvedStrategy {
  def: StrategyDefinition<any, any>;
  params: Record<string, unknown>;
}

const NOT_PARAMS = new Set(['type', 'module', 'params', 'from', 'which', 'batchSize']);

export async function resolveStrategy(s: StrategyOptions): Promise<ResolvedStrategy> {
  if (s.module) {
    const file = resolve(s.module);
    if (!existsSync(file)) throw configError(`strategy.module ${s.module}: no such file (${file})`, 'Paths are relative to the directory runner was started in');
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (err) {
      throw configError(`strategy.module ${s.module} failed to load: ${(err as Error).message}`, 'Fix the module; it must import without side effects');
    }
    const def = mod.default ?? mod.strategy;
    if (!isStrategyDefinition(def)) throw configError(`strategy.module ${s.module} does not default-export a strategy`, 'export default defineStrategy({ name, init(params), onBar(state, bar, ctx) }) from @runner/plugin-backtest/engine');
    return { def, params: { ...s.params } };
  }
  if (s.type === 'model') {
    const r = await backtestStrategy(s, new Float64Array(0), 'strategy');
    return { def: r.def, params: r.params };
  }
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (!NOT_PARAMS.has(k) && v !== undefined) params[k] = v;
  return { def: builtinStrategy(String(s.type), 'strategy.type'), params };
}
