/**
 * The trade journal: append-only binary files next to the task's results, never rewritten. A
 * checkpoint records how many records each file held when it was taken; a resumed run cuts each
 * file back to that mark (dropping what a killed run wrote after its last checkpoint) and appends
 * from there.
 *
 * - `fills.f64`: one record of 12 float64 per fill (exact: no decimal formatting on the hot path).
 * - `trades.f64`: one record of 13 float64 per closed trade.
 * Strings are not stored: the side and order type are codes, the intent an index into the
 * intents table (kept in the checkpoint), and the order id is rebuilt from the cell, the order's
 * bar time, the intent and its repeat number, exactly as the engine made it.
 *
 * Per-bar equity and position are not journaled either: each fill records the cash and position
 * after it, so {@link rebuildBars} recomputes them with the engine's own arithmetic, bit for bit.
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { engineError } from './errors.js';
import type { Fill, OrderType, Trade } from './engine/types.js';

export interface JournalMarks {
  /** Records, not bytes. */
  fills: number;
  trades: number;
}

const FILL_FIELDS = 12;
const TRADE_FIELDS = 13;
const FILES = { fills: 'fills.f64', trades: 'trades.f64' } as const;
const WIDTH = { fills: FILL_FIELDS * 8, trades: TRADE_FIELDS * 8 } as const;
type Which = keyof typeof FILES;
const TYPES: OrderType[] = ['market', 'limit', 'stop'];

/** Intent strings ↔ small integers, in order of first use. */
export class Intents {
  readonly list: string[];
  private readonly index = new Map<string, number>();

  constructor(list: string[] = []) {
    this.list = [...list];
    this.list.forEach((s, i) => this.index.set(s, i));
  }

  code(intent: string): number {
    let i = this.index.get(intent);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(intent);
      this.index.set(intent, i);
    }
    return i;
  }
}

export class Journal {
  readonly dir: string;
  private readonly fds: Record<Which, number>;
  private readonly count: JournalMarks;
  /** Records encoded but not written yet (no objects kept alive between checkpoints). */
  private buf = { fills: new Float64Array(FILL_FIELDS * 1024), trades: new Float64Array(TRADE_FIELDS * 1024) };
  readonly pending: JournalMarks = { fills: 0, trades: 0 };

  private constructor(dir: string, fds: Record<Which, number>, count: JournalMarks) {
    this.dir = dir;
    this.fds = fds;
    this.count = count;
  }

  /** Opens the journal; with `marks`, cuts it back to them, else starts it empty. */
  static open(dir: string, marks?: JournalMarks): Journal {
    mkdirSync(dir, { recursive: true });
    const fds = {} as Record<Which, number>;
    const at = marks ?? { fills: 0, trades: 0 };
    for (const k of Object.keys(FILES) as Which[]) {
      const path = join(dir, FILES[k]);
      const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
      const want = at[k] * WIDTH[k];
      const size = fstatSync(fd).size;
      if (size < want) {
        closeSync(fd);
        for (const f of Object.values(fds)) closeSync(f);
        throw engineError(`journal ${path} has ${size} bytes, less than the ${want} its checkpoint recorded`, 'The journal was truncated outside the runner (or lost in a power failure); reset the task to run it from the start', { path });
      }
      ftruncateSync(fd, want);
      fds[k] = fd;
    }
    return new Journal(dir, fds, { ...at });
  }

  marks(): JournalMarks {
    return { ...this.count };
  }

  private room(which: Which): Float64Array {
    const width = which === 'fills' ? FILL_FIELDS : TRADE_FIELDS;
    let b = this.buf[which];
    if ((this.pending[which] + 1) * width > b.length) {
      const bigger = new Float64Array(b.length * 2);
      bigger.set(b);
      this.buf[which] = b = bigger;
    }
    return b;
  }

  /** Encodes a fill into the pending buffer. */
  addFill(f: Fill, intents: Intents): void {
    const r = this.room('fills');
    let k = this.pending.fills++ * FILL_FIELDS;
    const h = f.orderId.lastIndexOf('#');
    r[k++] = f.bar;
    r[k++] = f.time;
    r[k++] = f.side === 'buy' ? 0 : 1;
    r[k++] = TYPES.indexOf(f.type);
    r[k++] = intents.code(f.intent);
    r[k++] = h > f.orderId.lastIndexOf('|') ? Number(f.orderId.slice(h + 1)) : 1;
    r[k++] = f.orderTime;
    r[k++] = f.qty;
    r[k++] = f.price;
    r[k++] = f.commission;
    r[k++] = f.position;
    r[k] = f.cash;
  }

  /** Encodes a closed trade into the pending buffer. */
  addTrade(t: Trade): void {
    const r = this.room('trades');
    let k = this.pending.trades++ * TRADE_FIELDS;
    r[k++] = t.seq;
    r[k++] = t.side === 'long' ? 0 : 1;
    r[k++] = t.qty;
    r[k++] = t.entryBar;
    r[k++] = t.entryTime;
    r[k++] = t.entryPrice;
    r[k++] = t.exitBar;
    r[k++] = t.exitTime;
    r[k++] = t.exitPrice;
    r[k++] = t.commission;
    r[k++] = t.pnl;
    r[k++] = t.returnPct;
    r[k] = t.bars;
  }

  /** Writes the first `fills` and `trades` pending records to the files; later ones stay pending. */
  flush(fills = this.pending.fills, trades = this.pending.trades): void {
    for (const [which, n, width] of [['fills', fills, FILL_FIELDS], ['trades', trades, TRADE_FIELDS]] as const) {
      if (n === 0) continue;
      const b = this.buf[which];
      this.write(which, b.subarray(0, n * width), n);
      b.copyWithin(0, n * width, this.pending[which] * width);
      this.pending[which] -= n;
    }
  }

  private write(which: Which, r: Float64Array, records: number): void {
    const buf = new Uint8Array(r.buffer, r.byteOffset, r.byteLength);
    const at = this.count[which] * WIDTH[which];
    let off = 0;
    while (off < buf.length) off += writeSync(this.fds[which], buf, off, buf.length - off, at + off);
    this.count[which] += records;
  }

  private read(which: Which): Float64Array {
    const n = this.count[which] * WIDTH[which];
    const out = new Float64Array(n / 8);
    const view = new Uint8Array(out.buffer);
    let off = 0;
    while (off < n) {
      const got = readSync(this.fds[which], view, off, n - off, off);
      if (got === 0) throw engineError(`journal ${FILES[which]} ended early`, 'Reset the task to run it from the start');
      off += got;
    }
    return out;
  }

  /** The fills written so far; order ids are rebuilt as `<prefix>|<order time>|<intent>[#n]`. */
  readFills(intents: readonly string[], prefix: string): Fill[] {
    const r = this.read('fills');
    const out: Fill[] = [];
    for (let k = 0; k < r.length; k += FILL_FIELDS) {
      const intent = intents[r[k + 4]!]!;
      const dup = r[k + 5]!;
      const orderTime = r[k + 6]!;
      out.push({
        orderId: `${prefix}|${orderTime}|${intent}${dup > 1 ? `#${dup}` : ''}`,
        orderTime,
        bar: r[k]!,
        time: r[k + 1]!,
        side: r[k + 2] === 0 ? 'buy' : 'sell',
        type: TYPES[r[k + 3]!]!,
        intent,
        qty: r[k + 7]!,
        price: r[k + 8]!,
        commission: r[k + 9]!,
        position: r[k + 10]!,
        cash: r[k + 11]!,
      });
    }
    return out;
  }

  readTrades(): Trade[] {
    const r = this.read('trades');
    const out: Trade[] = [];
    for (let k = 0; k < r.length; k += TRADE_FIELDS) {
      out.push({
        seq: r[k]!,
        side: r[k + 1] === 0 ? 'long' : 'short',
        qty: r[k + 2]!,
        entryBar: r[k + 3]!,
        entryTime: r[k + 4]!,
        entryPrice: r[k + 5]!,
        exitBar: r[k + 6]!,
        exitTime: r[k + 7]!,
        exitPrice: r[k + 8]!,
        commission: r[k + 9]!,
        pnl: r[k + 10]!,
        returnPct: r[k + 11]!,
        bars: r[k + 12]!,
      });
    }
    return out;
  }

  close(): void {
    for (const fd of Object.values(this.fds)) closeSync(fd);
  }
}

/**
 * Equity and position after each bar [0, n) of the period, from the fills (in order) and the
 * closes: the same `cash + position × close` the engine computes, on the same operands.
 */
export function rebuildBars(fills: readonly Fill[], close: ArrayLike<number>, from: number, n: number, cash: number, equity: Float64Array, position: Float64Array): void {
  let c = cash;
  let p = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    while (k < fills.length && fills[k]!.bar === i) {
      c = fills[k]!.cash;
      p = fills[k]!.position;
      k++;
    }
    equity[i] = c + p * close[from + i]!;
    position[i] = p;
  }
}
