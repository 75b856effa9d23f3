/**
 * From `options.strategy` to a strategy definition and its parameters: a built-in (sma-cross,
 * rsi, model) or a custom module. Built-in parameters are the option fields themselves, so an HPO
 * stage can search `strategy.fast` and `strategy.slow` by name.
 */
import { builtinStrategy } from '../engine/strategies/index.js';
import type { StrategyDefinition } from '../engine/strategy.js';
import { EXACT_LIMIT } from '../engine/strategies/common.js';
import { inferScale } from '../engine/ticks.js';
import type { StrategyOptions } from '../schema.js';
import { loadStrategyModule } from './load-module.js';

export interface ResolvedStrategy {
  def: StrategyDefinition<any, any>;
  params: Record<string, unknown>;
  /** What to call it in logs and the report, e.g. `sma-cross(10, 50)` or `./my-strategy.mjs`. */
  label: string;
  warmup: number;
  scale: number;
  module?: string;
}

const PARAMS: Record<string, (keyof StrategyOptions)[]> = {
  'sma-cross': ['fast', 'slow', 'short', 'scale'],
  rsi: ['period', 'lower', 'upper', 'short', 'scale'],
  model: ['enterAbove', 'exitBelow', 'shortBelow', 'coverAbove'],
};

export async function resolveStrategy(s: StrategyOptions, close: Float64Array, where: string): Promise<ResolvedStrategy> {
  let def: StrategyDefinition<any, any>;
  let params: Record<string, unknown>;
  let label: string;
  let module: string | undefined;
  if (s.module) {
    const m = await loadStrategyModule(s.module, where);
    def = m.strategy;
    module = m.file;
    params = { ...s.params };
    label = `${def.name} (${s.module})`;
  } else {
    def = builtinStrategy(s.type!, where);
    params = {};
    for (const k of PARAMS[s.type!] ?? []) if (s[k] !== undefined) params[k] = s[k];
    label = s.type === 'sma-cross' ? `sma-cross(${s.fast ?? 10}, ${s.slow ?? 50})` : s.type === 'rsi' ? `rsi(${s.period ?? 14}, ${s.lower ?? 30}/${s.upper ?? 70})` : `model`;
  }
  let scale = typeof params.scale === 'number' ? params.scale : inferScale(close);
  if (def.name === 'sma-cross') {
    // Keep sumFast × slow and sumSlow × fast below 2^53: coarsen the grid for very large prices.
    const slow = (params.slow as number | undefined) ?? 50;
    let max = 0;
    for (let i = 0; i < close.length; i++) if (Math.abs(close[i]!) > max) max = Math.abs(close[i]!);
    while (max * scale * slow * slow >= EXACT_LIMIT / 4) scale /= 10;
  }
  const warmup = def.warmup?.(params as never) ?? 0;
  return { def, params, label, warmup, scale, ...(module ? { module } : {}) };
}
