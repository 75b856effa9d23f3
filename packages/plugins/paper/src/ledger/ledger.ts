/**
 * The paper trader's durable ledger: everything about one bar — the engine's state after it
 * (portfolio, open orders, strategy and indicator state), the fills booked in it, the equity
 * point and the last-processed-bar marker — is written in ONE LMDB transaction, and the next bar
 * is not read until that transaction is flushed to disk (`durable`). A crash therefore leaves
 * either the whole bar or none of it, and a restart continues after the last committed bar.
 * Trades are keyed by order id too: a fill whose order id is already booked is never booked again.
 */
import type { PluginDb } from '@runner/core';
import type { BrokerFill } from '../broker/types.js';
import { stateError } from '../errors.js';

/** One booked fill, in the order booked. Contains no wall-clock time, so replays compare byte for byte. */
export interface TradeRecord extends BrokerFill {
  seq: number;
  intent: string;
  /** Cash and position after the fill, as the engine booked it. */
  cashAfter: number;
  positionAfter: number;
  /** The rest of the engine's fill record (bar index, order type, ...), kept for the backtester's tables. */
  engine?: Record<string, unknown>;
}

export interface EquityPoint {
  time: number;
  close: number;
  cash: number;
  position: number;
  equity: number;
}

export interface LedgerState<E = unknown> {
  v: 1;
  /** Bars committed so far. */
  bars: number;
  /** Time of the last committed bar (-Infinity before the first). */
  lastTime: number;
  /** Trades booked so far (the next trade's seq). */
  trades: number;
  /** The engine's state after the last committed bar. */
  engine: E;
  /** The last committed bar itself. */
  lastBar?: { time: number; open: number; high: number; low: number; close: number; volume: number };
}

export interface BarCommit<E> {
  state: LedgerState<E>;
  trades: TradeRecord[];
  equity: EquityPoint;
  /** Round trips the bar closed (the engine's `Trade`s), keyed by their seq. */
  rounds?: { seq: number }[];
}

export class PaperLedger<E = unknown> {
  /** Order ids found already booked while committing (should stay 0: reported if not). */
  duplicatesSuppressed = 0;

  constructor(
    private readonly db: PluginDb,
    /** `<task id>#<session>`: one trader's keys. */
    readonly scope: string,
    private readonly durable: boolean,
  ) {}

  load(): LedgerState<E> | undefined {
    return this.db.get<LedgerState<E>>(['state', this.scope]);
  }

  /** Commits one bar; resolves once it is committed (and flushed, when durable). */
  async commit(c: BarCommit<E>): Promise<void> {
    const suppressed = await this.db.transaction((tx) => {
      const prev = tx.get<LedgerState<E>>(['state', this.scope]);
      if (prev && prev.lastTime >= c.equity.time) {
        throw stateError(this.scope, `bar ${new Date(c.equity.time).toISOString()} is not after the last committed bar ${new Date(prev.lastTime).toISOString()}`, 'Another process is writing this trader; stop it');
      }
      let dup = 0;
      for (const t of c.trades) {
        if (tx.get(['order', this.scope, t.orderId]) !== undefined) {
          dup++;
          continue;
        }
        tx.put(['order', this.scope, t.orderId], t.seq);
        tx.put(['trade', this.scope, t.seq], t);
      }
      for (const r of c.rounds ?? []) tx.put(['round', this.scope, r.seq], r);
      tx.put(['equity', this.scope, c.equity.time], c.equity);
      tx.put(['state', this.scope], c.state);
      return dup;
    }, { durable: this.durable });
    this.duplicatesSuppressed += suppressed;
  }

  *trades(): Iterable<TradeRecord> {
    for (const { value } of this.db.range<TradeRecord>({ start: ['trade', this.scope, 0], end: ['trade', this.scope, Number.MAX_SAFE_INTEGER] })) yield value;
  }

  *rounds<R = unknown>(): Iterable<R> {
    for (const { value } of this.db.range<R>({ start: ['round', this.scope, 0], end: ['round', this.scope, Number.MAX_SAFE_INTEGER] })) yield value;
  }

  *equity(): Iterable<EquityPoint> {
    for (const { value } of this.db.range<EquityPoint>({ start: ['equity', this.scope, -Number.MAX_VALUE], end: ['equity', this.scope, Number.MAX_VALUE] })) yield value;
  }
}
