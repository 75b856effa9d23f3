import { configError } from '../errors.js';
import type { Response } from '../http/client.js';
import { AttemptError } from '../http/retry.js';
import type { SeriesRun } from '../session.js';
import { parseDate, ymd } from '../time.js';

/** Reads a whole (small) body, counting its bytes. */
export async function readBody(res: Response, run: SeriesRun): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of run.session.http.chunks(res)) {
    chunks.push(chunk);
    run.state.bytesFetched += chunk.length;
  }
  return Buffer.concat(chunks);
}

/** Reads a JSON body; a body that does not parse (cut short, an HTML error page) is a transient failure. */
export async function readJson(res: Response, run: SeriesRun): Promise<unknown> {
  const body = await readBody(res, run);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    const head = body.subarray(0, 80).toString('utf8').replace(/\s+/g, ' ');
    throw new AttemptError('body', `the response is not valid JSON (${body.length} bytes, starting ${JSON.stringify(head)}); it may have been cut short`, true);
  }
}

export function dateOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = parseDate(text);
  if (Number.isNaN(t)) throw configError(`${name}: "${text}" is not a valid date`, 'Use YYYY-MM-DD or an ISO date-time such as 2024-01-01T00:00:00Z');
  return t;
}

/** A source's `start`/`end` options as epoch ms, checked (start before end); `end` undefined = open-ended. */
export function dateRange(o: { start: string; end?: string }): { start: number; end: number | undefined } {
  const start = dateOption('source.start', o.start)!;
  const end = dateOption('source.end', o.end);
  checkRange(start, end, o.start, o.end);
  return { start, end };
}

export function checkRange(start: number, end: number | undefined, startText: string, endText: string | undefined): void {
  if (end !== undefined && end <= start) {
    throw configError(`source.end (${endText}) is not after source.start (${startText})`, 'Set an end after the start, or leave end out to download up to now');
  }
}

export function compactYmd(t: number): string {
  return ymd(t).replace(/-/g, '');
}

/** Replaces ${env:NAME} with the environment variable; a missing one is a config error. */
export function expandEnv(value: string, where: string): string {
  return value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = process.env[name];
    if (v === undefined || v === '') throw configError(`${where} needs the environment variable ${name}, which is not set`, `Set ${name} in the environment of \`runner start\``);
    return v;
  });
}
