/**
 * The strategy contract. A strategy is a pure function of its state and the current bar: it reads
 * the bar (and the portfolio through the context) and asks for orders. Its whole memory lives in
 * `state`, a plain object of numbers, strings, arrays and typed arrays, so the engine can save it
 * in a checkpoint and a resumed run continues with bit-identical indicator values.
 *
 * @example
 * ```ts
 * // my-strategy.mjs
 * import { defineStrategy } from '@runner/plugin-backtest/engine';
 * export default defineStrategy({
 *   name: 'breakout',
 *   init: (params) => ({ n: params.n ?? 20, high: -Infinity, seen: 0 }),
 *   onBar(s, bar, ctx) {
 *     if (s.seen >= s.n && bar.close > s.high) ctx.enterLong();
 *     else if (ctx.position > 0 && bar.close < s.high * 0.95) ctx.exit();
 *     s.high = Math.max(s.high, bar.close);
 *     s.seen++;
 *   },
 * });
 * ```
 */
import type { Bar, Order, OrderRequest } from './types.js';

/** What a strategy sees and does on each bar. The engine itself implements it (no allocation). */
export interface StrategyContext {
  /** Index of the current bar, counted from the first bar the engine processed (0-based). */
  readonly index: number;
  /** Signed units held after this bar's fills. */
  readonly position: number;
  readonly cash: number;
  /** cash + position × close of the current bar. */
  readonly equity: number;
  /** False while the engine warms indicators up on bars before the trading period: orders are dropped. */
  readonly trading: boolean;
  /** Open orders (placed earlier and not yet filled or cancelled). */
  readonly openOrders: readonly Order[];
  /** Units an entry trades under the sizing rule, at this bar's close. */
  size(): number;
  /** Places an order; it is first eligible to fill on the next bar. Returns its id ('' when dropped). */
  order(req: OrderRequest): string;
  /** Market order(s) to hold `units` (signed) after the next bar's open. No-op when already there. */
  target(units: number, intent?: string): void;
  /** target(+size()) */
  enterLong(intent?: string): void;
  /** target(-size()); a no-op unless the engine allows shorts. */
  enterShort(intent?: string): void;
  /** target(0) */
  exit(intent?: string): void;
  cancel(orderId: string): boolean;
  cancelAll(): void;
}

export interface StrategyInfo {
  /** Price scale of the series (see `inferScale`): ticks = round(price × scale), for integer-tick arithmetic. */
  scale?: number;
}

export interface StrategyDefinition<P = Record<string, unknown>, S = unknown> {
  name: string;
  /** Bars the strategy needs before its first decision (its indicators' warm-up). @default 0 */
  warmup?(params: P): number;
  /** The initial state. Must be serialisable (msgpack): numbers, strings, arrays, typed arrays, plain objects. */
  init(params: P, info: StrategyInfo): S;
  /** Called once per bar, after that bar's fills, with the bar's final values. */
  onBar(state: S, bar: Readonly<Bar>, ctx: StrategyContext): void;
}

/** Identity helper that types a strategy. */
export function defineStrategy<P = Record<string, unknown>, S = unknown>(def: StrategyDefinition<P, S>): StrategyDefinition<P, S> {
  return def;
}

export function isStrategyDefinition(x: unknown): x is StrategyDefinition {
  const d = x as StrategyDefinition | null;
  return !!d && typeof d === 'object' && typeof d.name === 'string' && typeof d.init === 'function' && typeof d.onBar === 'function';
}
