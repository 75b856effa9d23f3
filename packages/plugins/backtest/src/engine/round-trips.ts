/**
 * Round-trip bookkeeping: a trade runs from flat to flat. Adding to a position raises its entry
 * quantity and value; reducing it accumulates the exit; a fill that takes the position through
 * zero closes the trade and opens the next with the rest of the fill (commission split pro rata).
 */
import type { Trade } from './types.js';

/** A round trip in progress. */
export interface OpenTrade {
  side: 'long' | 'short';
  entryBar: number;
  entryTime: number;
  entryQty: number;
  entryValue: number;
  exitQty: number;
  exitValue: number;
  commission: number;
}

export class RoundTrips {
  open: OpenTrade | null;
  /** Trades closed so far. */
  count: number;
  private readonly onTrade: ((t: Trade) => void) | undefined;

  constructor(open: OpenTrade | null, count: number, onTrade?: (t: Trade) => void) {
    this.open = open;
    this.count = count;
    this.onTrade = onTrade;
  }

  /** One fill of `signed` units (buy > 0) at `price` with commission `c`; `prev`/`next` are the position around it. */
  fill(prev: number, next: number, signed: number, price: number, c: number, bar: number, time: number): void {
    const abs = Math.abs(signed);
    if (prev === 0 || Math.sign(prev) === Math.sign(signed)) {
      if (!this.open) this.open = { side: signed > 0 ? 'long' : 'short', entryBar: bar, entryTime: time, entryQty: 0, entryValue: 0, exitQty: 0, exitValue: 0, commission: 0 };
      this.open.entryQty += abs;
      this.open.entryValue += abs * price;
      this.open.commission += c;
      return;
    }
    const closing = Math.min(abs, Math.abs(prev));
    const t = this.open!;
    t.exitQty += closing;
    t.exitValue += closing * price;
    t.commission += closing === abs ? c : (c * closing) / abs;
    if (next === 0 || Math.sign(next) !== Math.sign(prev)) {
      this.close(t, price, bar, time);
      const rest = abs - closing;
      if (rest > 0) {
        this.open = { side: signed > 0 ? 'long' : 'short', entryBar: bar, entryTime: time, entryQty: rest, entryValue: rest * price, exitQty: 0, exitValue: 0, commission: (c * rest) / abs };
      }
    }
  }

  private close(t: OpenTrade, price: number, bar: number, time: number): void {
    const gross = t.side === 'long' ? t.exitValue - t.entryValue * (t.exitQty / t.entryQty) : t.entryValue * (t.exitQty / t.entryQty) - t.exitValue;
    const pnl = gross - t.commission;
    this.open = null;
    this.count++;
    this.onTrade?.({
      seq: this.count,
      side: t.side,
      qty: t.entryQty,
      entryBar: t.entryBar,
      entryTime: t.entryTime,
      entryPrice: t.entryValue / t.entryQty,
      exitBar: bar,
      exitTime: time,
      exitPrice: t.exitQty > 0 ? t.exitValue / t.exitQty : price,
      commission: t.commission,
      pnl,
      returnPct: pnl / t.entryValue,
      bars: bar - t.entryBar,
    });
  }
}
