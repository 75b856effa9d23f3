/**
 * events.jsonl is written in batches, so a kill -9 loses the lines of the last batch although
 * their events were committed (the store's event feed has them). On the next start, before any
 * new line is written, this appends the committed task ends and checkpoints that the end of the
 * file lacks, each marked `"recovered": true`.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredEvent } from '../store/types.js';
import { EVENTS_FILE } from './event-log.js';

/** The part of the feed that can be missing from the file: what was committed after its last lines. */
const SLACK_MS = 60_000;
const TAIL_BYTES = 4 << 20;

interface Feed {
  eventsNewestFirst(): Iterable<StoredEvent>;
}

function keyOf(type: string, id: unknown, x: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  if (type === 'task:checkpoint') return `c ${id} ${String(x)}`;
  if (type === 'task:end') return `e ${id} ${String(x)}`;
  return undefined;
}

/** Appends what the feed committed and the file lacks; returns how many lines were added. */
export function recoverEventLog(runDir: string, feed: Feed): number {
  const file = join(runDir, EVENTS_FILE);
  const { lines, endsWithNewline } = readTail(file);
  let lastTime = -Infinity;
  const parsed: { time: number; type: string; id?: unknown; seq?: unknown; state?: unknown }[] = [];
  for (const text of lines) {
    try {
      const l = JSON.parse(text) as { time?: string; type?: string; id?: unknown; seq?: unknown; state?: unknown };
      const time = Date.parse(l.time ?? '');
      if (!Number.isFinite(time) || typeof l.type !== 'string') continue;
      lastTime = Math.max(lastTime, time);
      parsed.push({ ...l, time, type: l.type });
    } catch {
      // A line torn by the kill: ignored (a newline is added before the recovered lines).
    }
  }
  const from = lastTime - SLACK_MS;
  const inFile = new Map<string, number>();
  for (const l of parsed) {
    if (l.time < from - SLACK_MS) continue;
    const k = keyOf(l.type, l.id, l.type === 'task:checkpoint' ? l.seq : l.state);
    if (k) inFile.set(k, (inFile.get(k) ?? 0) + 1);
  }
  // The feed back to the window's start, or to the start of the runner whose tail may be missing.
  const window: StoredEvent[] = [];
  for (const ev of feed.eventsNewestFirst()) {
    if (ev.time < from) break;
    window.push(ev);
    if (ev.type === 'runner:start' && lastTime === -Infinity) break;
  }
  const add: string[] = [];
  for (const ev of window.reverse()) {
    const data = (ev.data ?? {}) as { seq?: number; type?: string; step?: number };
    const k = keyOf(ev.type, ev.task, ev.type === 'task:checkpoint' ? data.seq : ev.state);
    if (!k) continue;
    const n = inFile.get(k) ?? 0;
    if (n > 0) {
      inFile.set(k, n - 1);
      continue;
    }
    const time = new Date(ev.time).toISOString();
    add.push(
      JSON.stringify(
        ev.type === 'task:checkpoint'
          ? { time, type: ev.type, id: ev.task, seq: data.seq, checkpointType: data.type, step: data.step, recovered: true }
          : { time, type: ev.type, id: ev.task, state: ev.state, recovered: true },
      ),
    );
  }
  if (add.length === 0) return 0;
  const fd = openSync(file, 'a');
  try {
    writeSync(fd, (lines.length > 0 && !endsWithNewline ? '\n' : '') + add.join('\n') + '\n');
  } finally {
    closeSync(fd);
  }
  return add.length;
}

function readTail(file: string): { lines: string[]; endsWithNewline: boolean } {
  if (!existsSync(file)) return { lines: [], endsWithNewline: true };
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const text = buf.toString('utf8');
    const lines = text.split('\n');
    if (start > 0) lines.shift();
    const endsWithNewline = text.endsWith('\n') || text.length === 0;
    return { lines: lines.filter((l) => l.length > 0), endsWithNewline };
  } finally {
    closeSync(fd);
  }
}
