import { strategyError, type BacktestError } from '../../errors.js';

/** Products of integer ticks stay exact below this. */
export const EXACT_LIMIT = Number.MAX_SAFE_INTEGER;

export function configErrorFor(strategy: string, message: string, hint: string): BacktestError {
  return strategyError(`strategy ${strategy}`, message, hint);
}
