/** The event feed: every state change appends an event, which other runners and `runner serve` tail. */
import type { StoredEvent } from './types.js';
import type { StoreDbs } from './db.js';

/** Appends an event inside the current write transaction and returns it. */
export function appendEvent(db: StoreDbs, e: Omit<StoredEvent, 'seq' | 'time'> & { time?: number }): StoredEvent {
  const seq = ((db.meta.get('eventSeq') as number | undefined) ?? 0) + 1;
  db.meta.put('eventSeq', seq);
  const ev: StoredEvent = { seq, time: e.time ?? Date.now(), ...e } as StoredEvent;
  db.events.put(seq, ev);
  return ev;
}

export function lastEventSeq(db: StoreDbs): number {
  return (db.meta.get('eventSeq') as number | undefined) ?? 0;
}

/** Events after `afterSeq`, oldest first. */
export function* eventsAfter(db: StoreDbs, afterSeq: number, limit = Infinity): Iterable<StoredEvent> {
  let n = 0;
  for (const { value } of db.events.getRange({ start: afterSeq + 1 })) {
    if (n++ >= limit) return;
    yield value;
  }
}

/** Events newest first (to read back the end of the feed). */
export function* eventsNewestFirst(db: StoreDbs): Iterable<StoredEvent> {
  for (const { value } of db.events.getRange({ reverse: true })) yield value;
}

export async function recordEvent(db: StoreDbs, type: string, data?: unknown, owner?: string): Promise<StoredEvent> {
  return db.meta.transaction(() => appendEvent(db, { type, data, owner }));
}

/** Keeps the newest `keep` events. */
export async function trimEvents(db: StoreDbs, keep: number): Promise<number> {
  const last = lastEventSeq(db);
  const floor = last - keep;
  if (floor <= 0) return 0;
  let removed = 0;
  await db.events.transaction(() => {
    for (const key of db.events.getKeys({ end: floor + 1 })) {
      db.events.remove(key);
      removed++;
    }
  });
  return removed;
}
