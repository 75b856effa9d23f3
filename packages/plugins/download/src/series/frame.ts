/** A parsed series before it is checked and stored: a time column and named value columns. */

export interface Frame {
  time: Float64Array;
  names: string[];
  cols: Float64Array[];
  /** Where row `i` came from, for error messages: "line 17 of <url>", "page 3 row 5". */
  rowRef(i: number): string;
}

/** A growable Float64Array. */
export class F64Builder {
  private buf: Float64Array;
  length = 0;

  constructor(capacity = 1024) {
    this.buf = new Float64Array(Math.max(16, capacity));
  }

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  /** The values, trimmed to length (a copy only when there is slack). */
  finish(): Float64Array {
    return this.length === this.buf.length ? this.buf : this.buf.slice(0, this.length);
  }
}

/** Lower-case, non-alphanumerics as _, e.g. "Adj Close" → adj_close. */
export function normalizeName(name: string): string {
  const n = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return n || 'col';
}

/** Makes names unique by suffixing _2, _3, ... */
export function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = seen.get(n) ?? 0;
    seen.set(n, k + 1);
    return k === 0 ? n : `${n}_${k + 1}`;
  });
}

/** Selects rows by index (in order) from every column. */
export function takeRows(frame: Frame, idx: Int32Array | number[], rowRef: (i: number) => string): Frame {
  const n = idx.length;
  const time = new Float64Array(n);
  const cols = frame.cols.map(() => new Float64Array(n));
  for (let j = 0; j < n; j++) {
    const i = idx[j]!;
    time[j] = frame.time[i]!;
    for (let c = 0; c < cols.length; c++) cols[c]![j] = frame.cols[c]![i]!;
  }
  return { time, names: frame.names, cols, rowRef };
}

/** sha256 input for a frame's content: names, then each column's bytes. Stable across runs. */
export function frameBytes(frame: Frame): Uint8Array[] {
  const parts: Uint8Array[] = [new TextEncoder().encode(['time', ...frame.names].join('\u0000'))];
  for (const c of [frame.time, ...frame.cols]) parts.push(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
  return parts;
}
