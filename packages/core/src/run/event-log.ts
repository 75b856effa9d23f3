import { createWriteStream, mkdirSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { EventEmitter } from 'eventemitter3';
import type { RunnerEventName, RunnerEvents } from '../events.js';
import { compressEventLogPart, EVENTS_FILE, eventsMaxBytes, rotateEventLog } from './event-log-parts.js';
import { jsonReplacer } from '../util/plain-data.js';

export { EVENTS_FILE, eventLogParts, readEventLog } from './event-log-parts.js';

const NAMES: RunnerEventName[] = ['run:start', 'task:start', 'task:progress', 'task:checkpoint', 'task:log', 'task:event', 'task:end', 'task:state', 'run:stopping', 'run:end', 'run:log'];

/**
 * Appends every runner event to `<runDir>/events.jsonl`, one JSON object per line with `time`
 * and `type`. Progress is throttled to one line per task per second. Past `RUNNER_EVENTS_MAX_BYTES`
 * (32 MiB) the file is rotated to `events-NNNNNN.jsonl.gz`; `readEventLog` reads every part.
 */
export class EventLog {
  private out?: WriteStream;
  private failed = false;
  private readonly lastProgress = new Map<string, number>();
  private buffer: string[] = [];
  private timer?: NodeJS.Timeout;
  private written = 0;
  private readonly compressing: Promise<void>[] = [];

  constructor(
    private readonly runDir: string,
    events: EventEmitter<RunnerEvents>,
  ) {
    for (const name of NAMES) {
      events.on(name, (e: object) => this.write(name, e));
    }
  }

  /** Opened on the first event, i.e. once the store is open and the run directory exists. */
  private stream(): WriteStream | undefined {
    if (!this.out && !this.failed) {
      try {
        mkdirSync(this.runDir, { recursive: true });
        const path = join(this.runDir, EVENTS_FILE);
        try {
          this.written = statSync(path).size;
        } catch {
          this.written = 0;
        }
        this.out = createWriteStream(path, { flags: 'a' });
        this.out.on('error', () => {
          // A full disk must not crash the run; the store is the source of truth.
          this.failed = true;
        });
      } catch {
        this.failed = true;
      }
    }
    return this.failed ? undefined : this.out;
  }

  private write(type: RunnerEventName, e: object): void {
    if (type === 'task:progress') {
      const id = (e as { id: string }).id;
      const now = Date.now();
      if (now - (this.lastProgress.get(id) ?? 0) < 1000) return;
      this.lastProgress.set(id, now);
    } else if (type === 'task:end') {
      this.lastProgress.delete((e as { id: string }).id);
    }
    // A checkpoint event carries the checkpoint's own type and time; keep the event's name on top.
    const { type: innerType, time: innerTime, ...rest } = e as { type?: unknown; time?: unknown };
    const line: Record<string, unknown> = { time: new Date().toISOString(), type, ...rest };
    if (innerType !== undefined) line.checkpointType = innerType;
    if (innerTime !== undefined) line.checkpointTime = innerTime;
    // The log must never take the run down: a value JSON cannot hold is written as text.
    let text: string;
    try {
      text = JSON.stringify(line, jsonReplacer);
    } catch (err) {
      text = JSON.stringify({ time: line.time, type, id: (e as { id?: unknown }).id, unloggable: String((err as Error).message) });
    }
    this.buffer.push(text);
    if (this.buffer.length >= 512) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), 200);
  }

  /** Lines are batched: one write per 200 ms (or 512 events) keeps the main thread free. */
  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('\n') + '\n';
    this.buffer = [];
    const out = this.stream();
    if (!out) return;
    out.write(text);
    this.written += Buffer.byteLength(text);
    if (this.written >= eventsMaxBytes()) this.rotate(out);
  }

  private rotate(out: WriteStream): void {
    let part: string;
    try {
      part = rotateEventLog(this.runDir);
    } catch {
      return; // could not rename (disk trouble): keep appending to the same file
    }
    this.out = undefined;
    this.compressing.push(new Promise<void>((resolve) => out.end(() => resolve(compressEventLogPart(part)))));
  }

  async close(): Promise<void> {
    this.flush();
    const out = this.out;
    if (out) await new Promise((resolve) => out.end(resolve));
    await Promise.all(this.compressing);
  }
}
