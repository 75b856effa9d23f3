import { strategyError } from '../../errors.js';
import type { StrategyDefinition } from '../strategy.js';
import { modelStrategy } from './model.js';
import { rsiStrategy } from './rsi.js';
import { smaCross } from './sma-cross.js';

export { smaCross, type SmaCrossParams, type SmaCrossState } from './sma-cross.js';
export { rsiStrategy, type RsiParams, type RsiState } from './rsi.js';
export { modelStrategy, type ModelParams, type ModelState } from './model.js';

/** The built-in strategies by `type`. */
export const BUILTIN_STRATEGIES: Readonly<Record<string, StrategyDefinition<any, any>>> = Object.freeze({
  'sma-cross': smaCross,
  rsi: rsiStrategy,
  model: modelStrategy,
});

export function builtinStrategy(type: string, where = 'strategy'): StrategyDefinition<any, any> {
  const s = BUILTIN_STRATEGIES[type];
  if (!s) throw strategyError(where, `unknown strategy type ${JSON.stringify(type)}`, `Use one of ${Object.keys(BUILTIN_STRATEGIES).join(', ')}, or { module: ./my-strategy.mjs }`);
  return s;
}
