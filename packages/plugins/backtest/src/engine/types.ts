/**
 * The engine's contract: bars in, orders, fills and round-trip trades out. Shared by the
 * backtester (which drives the engine over stored columns) and the paper trader (which drives it
 * one live bar at a time). Everything here is plain data, so it survives msgpack and JSON.
 */

/** One bar. `time` is epoch milliseconds and must increase from bar to bar. */
export interface Bar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** NaN when the series has no volume. */
  volume: number;
  /**
   * An external signal for this bar, e.g. a model's prediction computed from bars up to and
   * including this one (NaN when there is none). The `model` strategy trades on it.
   */
  signal: number;
}

export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit' | 'stop';

/** What a strategy asks for. */
export interface OrderRequest {
  side: Side;
  /** Units, > 0. Defaults to the sizing rule's size. */
  qty?: number;
  /** @default 'market' */
  type?: OrderType;
  /** Limit price (type `limit`) or trigger price (type `stop`). */
  price?: number;
  /**
   * Why the order exists (`enter-long`, `exit`, `stop-loss`...). Part of the order id, which is
   * `<idPrefix>|<bar time>|<intent>` (with `#2`, `#3`... for repeats within one bar), so the same
   * decision on the same bar always gets the same id, and replaying a bar cannot duplicate it.
   * @default the side
   */
  intent?: string;
}

/** An open order. Orders placed on bar t are first eligible to fill on bar t + 1. */
export interface Order {
  id: string;
  side: Side;
  type: OrderType;
  qty: number;
  /** Limit or stop price; NaN for market orders. */
  price: number;
  intent: string;
  /** Index and time of the bar on which it was placed. */
  bar: number;
  time: number;
}

export interface Fill {
  orderId: string;
  /** Time of the bar the order was placed on (part of its id). */
  orderTime: number;
  /** Index and time of the bar it filled on. */
  bar: number;
  time: number;
  side: Side;
  type: OrderType;
  intent: string;
  qty: number;
  /** Execution price including slippage. */
  price: number;
  commission: number;
  /** Position (signed units) and cash after the fill. */
  position: number;
  cash: number;
}

/** A round trip: from flat (or a flip) to flat (or the next flip). */
export interface Trade {
  /** 1, 2, 3... in the order trades close. */
  seq: number;
  side: 'long' | 'short';
  qty: number;
  entryBar: number;
  entryTime: number;
  /** Average entry price (with slippage). */
  entryPrice: number;
  exitBar: number;
  exitTime: number;
  exitPrice: number;
  /** Commission paid on entry and exit fills of this trade. */
  commission: number;
  /** Net of commission. */
  pnl: number;
  /** pnl / (entryPrice × qty). */
  returnPct: number;
  /** exitBar − entryBar. */
  bars: number;
}

/** Commission per fill: one of the three forms. */
export type CommissionConfig = { perUnit: number } | { pct: number } | { perOrder: number } | { none: true };

/** Slippage in basis points, applied against the trader on market and stop fills. */
export interface SlippageConfig {
  bps: number;
}

/** How many units an entry buys or sells. */
export type SizingConfig = { units: number } | { fraction: number; fractional?: boolean };

export interface EngineConfig {
  /** Starting cash. */
  cash: number;
  /** @default { none: true } */
  commission?: CommissionConfig;
  /** @default { bps: 0 } */
  slippage?: SlippageConfig;
  /** @default { units: 1 } */
  sizing?: SizingConfig;
  /** Whether entries may go short. @default false */
  allowShort?: boolean;
  /** First part of every order id, e.g. the task's cell `symbol=AAPL/horizon=1`. @default '' */
  idPrefix?: string;
}

/** Called for every fill and every closed trade, in order. */
export interface EngineHooks {
  onFill?(fill: Fill): void;
  onTrade?(trade: Trade): void;
}

/** Column arrays of a series; `volume` and `signal` are optional. */
export interface BarColumns {
  time: ArrayLike<number>;
  open: ArrayLike<number>;
  high: ArrayLike<number>;
  low: ArrayLike<number>;
  close: ArrayLike<number>;
  volume?: ArrayLike<number>;
  signal?: ArrayLike<number>;
}
