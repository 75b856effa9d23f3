import { createReadStream, createWriteStream, existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';

/** The live log; older parts are `events-000001.jsonl.gz`, … (oldest first). */
export const EVENTS_FILE = 'events.jsonl';
const PART = /^events-(\d{6})\.jsonl(\.gz)?$/;

/** Size at which the live log is rotated; RUNNER_EVENTS_MAX_BYTES overrides it. */
export const DEFAULT_EVENTS_MAX_BYTES = 32 * 1024 * 1024;

export function eventsMaxBytes(): number {
  const v = Number(process.env.RUNNER_EVENTS_MAX_BYTES);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_EVENTS_MAX_BYTES;
}

/** Every part of a run's event log, oldest first, the live file last. */
export function eventLogParts(runDir: string): string[] {
  const parts = existsSync(runDir)
    ? readdirSync(runDir)
        .filter((f) => PART.test(f))
        .sort()
    : [];
  // A part whose compression did not finish exists twice; the plain one is complete.
  const out = parts.filter((f) => !(f.endsWith('.gz') && parts.includes(f.slice(0, -3))));
  if (existsSync(join(runDir, EVENTS_FILE))) out.push(EVENTS_FILE);
  return out.map((f) => join(runDir, f));
}

/** Reads every line of the event log, across rotated parts, oldest first. */
export async function* readEventLog(runDir: string): AsyncIterable<Record<string, unknown>> {
  for (const file of eventLogParts(runDir)) {
    const raw = createReadStream(file);
    const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (!line) continue;
      try {
        yield JSON.parse(line) as Record<string, unknown>;
      } catch {
        // A line cut short by a crash: skip it.
      }
    }
  }
}

/**
 * Moves the live log aside as the next part (a rename: a stream still open on it goes on
 * writing into that part) and returns the part's path.
 */
export function rotateEventLog(runDir: string): string {
  const parts = readdirSync(runDir).filter((f) => PART.test(f));
  const next = parts.reduce((n, f) => Math.max(n, Number(PART.exec(f)![1])), 0) + 1;
  const plain = join(runDir, `events-${String(next).padStart(6, '0')}.jsonl`);
  renameSync(join(runDir, EVENTS_FILE), plain);
  return plain;
}

/** Compresses a rotated part (about a tenth of its size) and removes the plain one. */
export function compressEventLogPart(plain: string): Promise<void> {
  return pipeline(createReadStream(plain), createGzip(), createWriteStream(plain + '.gz'))
    .then(() => rmSync(plain, { force: true }))
    .catch(() => rmSync(plain + '.gz', { force: true }));
}
