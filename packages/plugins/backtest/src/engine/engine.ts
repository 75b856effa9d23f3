/**
 * The engine: one portfolio, its open orders and one strategy, stepped one bar at a time.
 *
 * Each bar: (1) open orders fill against it (market orders at its open, limits and stops when its
 * range reaches them), (2) equity is marked at its close, (3) the strategy sees the bar and may
 * place orders, which are first eligible on the next bar. A bar's outcome depends only on the
 * engine's state and the bar, and the state is plain data ({@link EngineState}), so a driver can
 * snapshot it between any two bars and a restored engine continues bit for bit.
 */
import { engineError } from '../errors.js';
import { commissionFn, type CommissionFn } from './costs.js';
import { fillPrice } from './fills.js';
import { RoundTrips, type OpenTrade } from './round-trips.js';
import type { StrategyContext, StrategyDefinition, StrategyInfo } from './strategy.js';
import type { Bar, BarColumns, EngineConfig, EngineHooks, Order, OrderRequest } from './types.js';

export type { OpenTrade } from './round-trips.js';

export const ENGINE_STATE_FORMAT = 'runner-backtest-engine/1';

/** Everything the engine remembers between bars. Plain data: msgpack and structuredClone keep it exactly. */
export interface EngineState {
  format: typeof ENGINE_STATE_FORMAT;
  /** Bars processed so far (warm-up bars not counted); the next bar gets this index. */
  index: number;
  /** Time of the last bar seen (warm-up included), -Infinity before the first. */
  lastTime: number;
  cash: number;
  position: number;
  /** Equity at the last bar's close. */
  equity: number;
  orders: Order[];
  open: OpenTrade | null;
  trades: number;
  fills: number;
  commission: number;
  strategyName: string;
  strategy: unknown;
}

export interface CreateEngineOptions<P, S> {
  config: EngineConfig;
  strategy: StrategyDefinition<P, S>;
  params: P;
  info?: StrategyInfo;
  hooks?: EngineHooks;
  /** Continue from a snapshot instead of starting flat with `config.cash`. */
  state?: EngineState;
}

export function createEngine<P, S>(options: CreateEngineOptions<P, S>): Engine<P, S> {
  return new Engine(options);
}

export class Engine<P = unknown, S = unknown> implements StrategyContext {
  readonly config: Readonly<EngineConfig>;
  readonly strategy: StrategyDefinition<P, S>;
  index = 0;
  lastTime = -Infinity;
  cash: number;
  position = 0;
  equity: number;
  trading = true;
  /** Fills and closed trades since the start (or the snapshot), as counters. */
  fillCount = 0;
  commissionPaid = 0;
  private orders: Order[] = [];
  private readonly trips: RoundTrips;
  private sstate: S;
  private readonly hooks: EngineHooks;
  private readonly commission: CommissionFn;
  private readonly prefix: string;
  private readonly allowShort: boolean;
  private bar: Bar;
  private readonly view: Bar = { time: 0, open: 0, high: 0, low: 0, close: 0, volume: NaN, signal: NaN };
  /** Ids given out on the current bar, to number repeats of one intent. */
  private barIds: string[] = [];
  private idTime = NaN;

  constructor(o: CreateEngineOptions<P, S>) {
    this.config = Object.freeze({ ...o.config });
    this.strategy = o.strategy;
    this.hooks = o.hooks ?? {};
    this.commission = commissionFn(o.config.commission);
    this.prefix = o.config.idPrefix ?? '';
    this.allowShort = o.config.allowShort ?? false;
    this.cash = o.config.cash;
    this.equity = o.config.cash;
    this.bar = this.view;
    this.trips = new RoundTrips(o.state?.open ? { ...o.state.open } : null, o.state?.trades ?? 0, this.hooks.onTrade);
    if (o.state) {
      const s = o.state;
      if (s.format !== ENGINE_STATE_FORMAT) throw engineError(`engine state has format ${String(s.format)}`, `Expected ${ENGINE_STATE_FORMAT}; start the backtest afresh`);
      if (s.strategyName !== o.strategy.name) throw engineError(`engine state is of strategy ${s.strategyName}, not ${o.strategy.name}`, 'Restore with the strategy that saved the state');
      this.index = s.index;
      this.lastTime = s.lastTime;
      this.cash = s.cash;
      this.position = s.position;
      this.equity = s.equity;
      this.orders = s.orders.map((x) => ({ ...x }));
      this.fillCount = s.fills;
      this.commissionPaid = s.commission;
      this.sstate = structuredClone(s.strategy) as S;
    } else {
      this.sstate = o.strategy.init(o.params, o.info ?? {});
    }
  }

  /** A deep copy of the state, safe to keep while the engine goes on. */
  snapshot(): EngineState {
    return {
      format: ENGINE_STATE_FORMAT,
      index: this.index,
      lastTime: this.lastTime,
      cash: this.cash,
      position: this.position,
      equity: this.equity,
      orders: this.orders.map((x) => ({ ...x })),
      open: this.trips.open ? { ...this.trips.open } : null,
      trades: this.trips.count,
      fills: this.fillCount,
      commission: this.commissionPaid,
      strategyName: this.strategy.name,
      strategy: structuredClone(this.sstate),
    };
  }

  /** The strategy's own state (read-only use: e.g. to show indicator values). */
  get strategyState(): S {
    return this.sstate;
  }

  get openOrders(): readonly Order[] {
    return this.orders;
  }

  /** The open round trip, if any (read-only). */
  get openTrade(): Readonly<OpenTrade> | null {
    return this.trips.open;
  }

  /** Round trips closed so far. */
  get tradeCount(): number {
    return this.trips.count;
  }

  /**
   * Processes one bar: fills, mark-to-market, strategy. Returns the equity at its close. Throws
   * `BACKTEST_ENGINE` when the bar's time does not increase (the engine's state is then unchanged).
   */
  onBar(bar: Bar): number {
    if (!(bar.time > this.lastTime)) throw engineError(`bar time ${bar.time} does not increase (last ${this.lastTime})`, 'Drop duplicate and out-of-order bars before the engine', { time: bar.time, last: this.lastTime });
    this.bar = bar;
    if (this.orders.length > 0) this.fillOrders(bar);
    this.equity = this.cash + this.position * bar.close;
    this.strategy.onBar(this.sstate, bar, this);
    this.lastTime = bar.time;
    this.index++;
    return this.equity;
  }

  /** {@link onBar} on row `i` of columns, through one reused bar object. */
  processBar(cols: BarColumns, i: number): number {
    const v = this.view;
    v.time = cols.time[i]!;
    v.open = cols.open[i]!;
    v.high = cols.high[i]!;
    v.low = cols.low[i]!;
    v.close = cols.close[i]!;
    v.volume = cols.volume ? cols.volume[i]! : NaN;
    v.signal = cols.signal ? cols.signal[i]! : NaN;
    return this.onBar(v);
  }

  /**
   * Rows [from, to) of columns; equity at each close goes to `equity[i - from + offset]` and the
   * position to `position[...]` when given. Returns the next row.
   */
  run(cols: BarColumns, from: number, to: number, out?: { equity?: Float64Array; position?: Float64Array; offset?: number }): number {
    // onBar inlined over the columns: this loop is the backtester's hot path.
    const eq = out?.equity;
    const pos = out?.position;
    const off = (out?.offset ?? 0) - from;
    const T = cols.time;
    const O = cols.open;
    const H = cols.high;
    const L = cols.low;
    const C = cols.close;
    const V = cols.volume;
    const S = cols.signal;
    const v = this.view;
    const strategy = this.strategy;
    const st = this.sstate;
    this.bar = v;
    for (let i = from; i < to; i++) {
      const time = T[i]!;
      if (!(time > this.lastTime)) throw engineError(`bar time ${time} does not increase (last ${this.lastTime})`, 'Drop duplicate and out-of-order bars before the engine', { time, last: this.lastTime, row: i });
      v.time = time;
      v.open = O[i]!;
      v.high = H[i]!;
      v.low = L[i]!;
      const close = C[i]!;
      v.close = close;
      if (V) v.volume = V[i]!;
      if (S) v.signal = S[i]!;
      if (this.orders.length > 0) this.fillOrders(v);
      const e = this.cash + this.position * close;
      this.equity = e;
      strategy.onBar(st, v, this);
      this.lastTime = time;
      this.index++;
      if (eq) eq[i + off] = e;
      if (pos) pos[i + off] = this.position;
    }
    return to;
  }

  /**
   * Warm-up: the strategy sees rows [from, to) to fill its indicators, but nothing fills and its
   * orders are dropped. Used for bars before the trading period (they are in the past, so this is
   * not look-ahead). Does not advance {@link index}.
   */
  warm(cols: BarColumns, from: number, to: number): void {
    const was = this.trading;
    this.trading = false;
    try {
      const v = this.view;
      for (let i = from; i < to; i++) {
        v.time = cols.time[i]!;
        if (!(v.time > this.lastTime)) throw engineError(`bar time ${v.time} does not increase (last ${this.lastTime})`, 'Drop duplicate and out-of-order bars before the engine');
        v.open = cols.open[i]!;
        v.high = cols.high[i]!;
        v.low = cols.low[i]!;
        v.close = cols.close[i]!;
        v.volume = cols.volume ? cols.volume[i]! : NaN;
        v.signal = cols.signal ? cols.signal[i]! : NaN;
        this.bar = v;
        this.strategy.onBar(this.sstate, v, this);
        this.lastTime = v.time;
      }
    } finally {
      this.trading = was;
    }
  }

  // ---- StrategyContext ----

  size(): number {
    const s = this.config.sizing ?? { units: 1 };
    if ('units' in s) return s.units;
    const raw = (this.equity * s.fraction) / this.bar.close;
    if (!(raw > 0)) return 0;
    return s.fractional ? raw : Math.floor(raw);
  }

  order(req: OrderRequest): string {
    if (!this.trading) return '';
    const type = req.type ?? 'market';
    const qty = req.qty ?? this.size();
    if (!(qty > 0) || !Number.isFinite(qty)) return '';
    const price = type === 'market' ? NaN : req.price ?? NaN;
    if (type !== 'market' && !Number.isFinite(price)) throw engineError(`a ${type} order needs a finite price (got ${String(req.price)})`, 'Pass price: the limit or stop price');
    const intent = req.intent ?? req.side;
    if (intent.includes('|') || intent.includes('#')) throw engineError(`order intent ${JSON.stringify(intent)} contains | or #`, 'Intents are part of order ids: use letters, digits, - and _');
    const time = this.bar.time;
    if (this.idTime !== time) {
      this.barIds.length = 0;
      this.idTime = time;
    }
    const base = `${this.prefix}|${time}|${intent}`;
    let id = base;
    for (let n = 2; this.barIds.includes(id); n++) id = `${base}#${n}`;
    this.barIds.push(id);
    this.orders.push({ id, side: req.side, type, qty, price, intent, bar: this.index, time });
    return id;
  }

  /** Position plus market orders not yet filled: what the position will be after the next open. */
  private expected(): number {
    let p = this.position;
    for (const o of this.orders) if (o.type === 'market') p += o.side === 'buy' ? o.qty : -o.qty;
    return p;
  }

  target(units: number, intent?: string): void {
    const d = units - this.expected();
    if (d > 0) this.order({ side: 'buy', qty: d, intent: intent ?? (units === 0 ? 'exit' : 'target') });
    else if (d < 0) this.order({ side: 'sell', qty: -d, intent: intent ?? (units === 0 ? 'exit' : 'target') });
  }

  enterLong(intent = 'enter-long'): void {
    if (this.expected() > 0) return;
    const n = this.size();
    if (n > 0) this.target(n, intent);
  }

  enterShort(intent = 'enter-short'): void {
    if (!this.allowShort || this.expected() < 0) return;
    const n = this.size();
    if (n > 0) this.target(-n, intent);
  }

  exit(intent = 'exit'): void {
    this.target(0, intent);
  }

  cancel(orderId: string): boolean {
    const i = this.orders.findIndex((o) => o.id === orderId);
    if (i < 0) return false;
    this.orders.splice(i, 1);
    return true;
  }

  cancelAll(): void {
    this.orders.length = 0;
  }

  // ---- fills ----

  private fillOrders(bar: Bar): void {
    const orders = this.orders;
    const bps = this.config.slippage?.bps ?? 0;
    let k = 0;
    for (let i = 0; i < orders.length; i++) {
      const o = orders[i]!;
      const px = fillPrice(o, bar, bps);
      if (px !== px) orders[k++] = o;
      else this.applyFill(o, px);
    }
    orders.length = k;
  }

  private applyFill(o: Order, price: number): void {
    const qty = o.qty;
    const c = this.commission(qty, price);
    const signed = o.side === 'buy' ? qty : -qty;
    if (o.side === 'buy') this.cash = this.cash - qty * price - c;
    else this.cash = this.cash + qty * price - c;
    const prev = this.position;
    this.position = prev + signed;
    this.commissionPaid += c;
    this.fillCount++;
    this.trips.fill(prev, this.position, signed, price, c, this.index, this.bar.time);
    this.hooks.onFill?.({
      orderId: o.id,
      orderTime: o.time,
      bar: this.index,
      time: this.bar.time,
      side: o.side,
      type: o.type,
      intent: o.intent,
      qty,
      price,
      commission: c,
      position: this.position,
      cash: this.cash,
    });
  }
}
