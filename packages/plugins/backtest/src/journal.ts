/**
 * The trade journal: append-only files next to the task's results, never rewritten. A checkpoint
 * records how far each file reached when it was taken; a resumed run cuts each file back to that
 * mark (dropping what a killed run wrote after its last checkpoint) and appends from there.
 *
 * - `fills.jsonl`, `trades.jsonl`: one JSON object per line, in order (JSON keeps floats exactly).
 *
 * Per-bar equity and position are not journaled: each fill records the cash and position after
 * it, so {@link rebuildBars} recomputes them with the engine's own arithmetic, bit for bit.
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { engineError } from './errors.js';
import type { Fill, Trade } from './engine/types.js';

export interface JournalMarks {
  fills: number;
  trades: number;
}

const FILES = { fills: 'fills.jsonl', trades: 'trades.jsonl' } as const;
type Which = keyof typeof FILES;

export class Journal {
  readonly dir: string;
  private fds: Record<Which, number>;
  private pos: JournalMarks;

  private constructor(dir: string, fds: Record<Which, number>, pos: JournalMarks) {
    this.dir = dir;
    this.fds = fds;
    this.pos = pos;
  }

  /** Opens the journal; with `marks`, cuts it back to them, else starts it empty. */
  static open(dir: string, marks?: JournalMarks): Journal {
    mkdirSync(dir, { recursive: true });
    const fds = {} as Record<Which, number>;
    const at = marks ?? { fills: 0, trades: 0 };
    for (const k of Object.keys(FILES) as Which[]) {
      const path = join(dir, FILES[k]);
      const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
      const want = at[k];
      const size = fstatSync(fd).size;
      if (size < want) {
        closeSync(fd);
        throw engineError(`journal ${path} has ${size} bytes, less than the ${want} its checkpoint recorded`, 'The journal was truncated outside the runner (or lost in a power failure); reset the task to run it from the start', { path });
      }
      ftruncateSync(fd, want);
      fds[k] = fd;
    }
    return new Journal(dir, fds, { ...at });
  }

  marks(): JournalMarks {
    return { ...this.pos };
  }

  appendLines(which: 'fills' | 'trades', lines: string[]): void {
    if (lines.length === 0) return;
    const buf = Buffer.from(lines.join('\n') + '\n');
    this.write(which, buf, this.pos[which]);
    this.pos[which] += buf.length;
  }

  private write(which: Which, buf: Uint8Array, at: number): void {
    let off = 0;
    while (off < buf.length) off += writeSync(this.fds[which], buf, off, buf.length - off, at + off);
  }

  readTrades(): Trade[] {
    return readJsonl<Trade>(join(this.dir, FILES.trades), this.pos.trades);
  }

  readFills<F>(): F[] {
    return readJsonl<F>(join(this.dir, FILES.fills), this.pos.fills);
  }

  close(): void {
    for (const fd of Object.values(this.fds)) closeSync(fd);
  }
}

function readJsonl<T>(path: string, bytes: number): T[] {
  if (bytes === 0) return [];
  const text = readFileSync(path).subarray(0, bytes).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
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
