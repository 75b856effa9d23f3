/**
 * A local HTTP server on 127.0.0.1 that mimics the download plugin's sources (Binance klines,
 * FRED observations, Stooq CSV, generic CSV and static files with ETag/Range) and injects the
 * faults real servers have: dropped connections, 5xx, 429 with Retry-After, slow responses,
 * truncated bodies, content that changes between requests. Tests and the benchmark use it; so
 * can anyone who wants to try a pipeline offline.
 *
 * @example
 * ```ts
 * import { FakeMarketServer } from '@runner/plugin-download/testing';
 * const server = await FakeMarketServer.start();
 * server.fault({ path: /klines/, kind: { type: 'status', status: 429, retryAfter: '1' } });
 * // source: { type: binance-klines, baseUrl: server.url, ... }
 * await server.close();
 * ```
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultKind =
  /** Answer with this status (and Retry-After) instead of the resource. */
  | { type: 'status'; status: number; retryAfter?: string; body?: string }
  /** Send this many body bytes, then destroy the connection. */
  | { type: 'drop'; afterBytes: number }
  /** Send only this many bytes of the body but end the response cleanly (no Content-Length). */
  | { type: 'truncate'; bytes: number }
  /** Wait this long before sending the headers. */
  | { type: 'delay'; ms: number }
  /** Send this many body bytes, then pause for `ms`. */
  | { type: 'stall'; afterBytes: number; ms: number };

export interface FaultRule {
  /** Matches the request path with its query. */
  path: string | RegExp;
  kind: FaultKind;
  /** How many matching requests get the fault. @default 1 */
  times?: number;
  /** Let this many matching requests through first. @default 0 */
  after?: number;
  /** Runs once the fault has fired (e.g. to change a file's content). */
  then?: () => void;
}

export interface StaticFile {
  body: Buffer;
  /** 'strong' (sha256-based), 'weak' (W/...), or 'none'. @default 'strong' */
  etag?: 'strong' | 'weak' | 'none';
  /** Honour Range requests. @default true */
  ranges?: boolean;
  /** Pace the body; 0 = as fast as possible. @default 0 */
  bytesPerSecond?: number;
  contentType?: string;
  /** Sent as Content-Encoding (the body must already be encoded). */
  contentEncoding?: string;
}

export interface RequestLog {
  path: string;
  /** When the request arrived, epoch ms. */
  at: number;
  status: number;
  range?: string;
  ifRange?: string;
  /** Body bytes written to the socket. */
  bytes: number;
  fault?: FaultKind['type'];
}

interface ActiveRule extends FaultRule {
  seen: number;
  fired: number;
}

const DAY = 86_400_000;

/** Deterministic pseudo-random in [0, 1) from a string and numbers. */
function noise(key: string, ...xs: number[]): number {
  const h = createHash('sha256').update(`${key}|${xs.join('|')}`).digest();
  return h.readUInt32LE(0) / 4294967296;
}

function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A price level for `symbol` at time `t`: smooth and deterministic, shifted by `revision`. */
export function fakePrice(symbol: string, t: number, revision = 0): number {
  const h = hash32(symbol);
  const base = 50 + (h % 1000);
  return base * (1 + 0.2 * Math.sin(t / 3.1e9 + (h % 97)) + 0.05 * Math.sin(t / 2.7e7 + (h % 13))) + revision;
}

const INTERVAL_MS: Record<string, number> = {
  '1s': 1000,
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '8h': 28_800_000,
  '12h': 43_200_000,
  '1d': DAY,
  '3d': 3 * DAY,
  '1w': 7 * DAY,
};

function fixed(x: number): string {
  return x.toFixed(8);
}

export class FakeMarketServer {
  readonly log: RequestLog[] = [];
  /** FRED API key the server accepts. */
  fredKey = 'test-key';
  /** Added to every generated price of a symbol: bump it to make the source "revise" its data. */
  readonly revisions = new Map<string, number>();
  /** Symbols listed from this time (Binance): earlier windows return []. */
  readonly listedAt = new Map<string, number>();
  /** Milliseconds to wait before answering each klines/FRED page (to make downloads slow). */
  pageDelayMs = 0;
  private readonly files = new Map<string, StaticFile>();
  private readonly rules: ActiveRule[] = [];
  private readonly sockets = new Set<import('node:net').Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(port = 0): Promise<FakeMarketServer> {
    let self!: FakeMarketServer;
    const server = createServer((req, res) => {
      self.handle(req, res).catch((err) => {
        if (!res.headersSent) res.writeHead(500).end(String(err));
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const { port: p } = server.address() as AddressInfo;
    self = new FakeMarketServer(server, `http://127.0.0.1:${p}`);
    server.on('connection', (s) => {
      self.sockets.add(s);
      s.on('close', () => self.sockets.delete(s));
    });
    return self;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Serves `body` at `path` (ETag, Range and pacing per the options). Replacing it changes the ETag. */
  file(path: string, file: StaticFile): void {
    this.files.set(path, file);
  }

  fault(rule: FaultRule): void {
    this.rules.push({ ...rule, seen: 0, fired: 0 });
  }

  clearFaults(): void {
    this.rules.length = 0;
  }

  /** Body bytes sent for requests whose path starts with `prefix` (or matches it). */
  bytesSent(prefix: string | RegExp = ''): number {
    return this.log.filter((r) => (typeof prefix === 'string' ? r.path.startsWith(prefix) : prefix.test(r.path))).reduce((a, r) => a + r.bytes, 0);
  }

  requests(prefix: string | RegExp = ''): RequestLog[] {
    return this.log.filter((r) => (typeof prefix === 'string' ? r.path.startsWith(prefix) : prefix.test(r.path)));
  }

  private pickFault(path: string): ActiveRule | undefined {
    for (const r of this.rules) {
      const match = typeof r.path === 'string' ? path.startsWith(r.path) : r.path.test(path);
      if (!match) continue;
      r.seen++;
      if (r.seen <= (r.after ?? 0)) continue;
      if (r.fired >= (r.times ?? 1)) continue;
      r.fired++;
      return r;
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const u = new URL(path, 'http://x');
    const entry: RequestLog = { path, at: Date.now(), status: 200, bytes: 0 };
    if (req.headers.range) entry.range = String(req.headers.range);
    if (req.headers['if-range']) entry.ifRange = String(req.headers['if-range']);
    this.log.push(entry);
    const rule = this.pickFault(path);
    const fault = rule?.kind;
    if (fault) entry.fault = fault.type;
    if (fault?.type === 'delay') await sleep(fault.ms);
    if (fault?.type === 'status') {
      entry.status = fault.status;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      const body = fault.body ?? JSON.stringify({ code: -1, msg: `injected ${fault.status}` });
      res.writeHead(fault.status, headers);
      res.end(body);
      entry.bytes += Buffer.byteLength(body);
      rule!.then?.();
      return;
    }

    let file: StaticFile | undefined;
    let status = 200;
    let contentType = 'text/csv';
    const p = u.pathname;
    if (this.files.has(p)) file = this.files.get(p)!;
    else if (p.endsWith('/klines')) {
      const r = this.klines(u.searchParams);
      status = r.status;
      contentType = 'application/json';
      file = { body: Buffer.from(r.body), ranges: false, etag: 'none' };
      if (this.pageDelayMs > 0) await sleep(this.pageDelayMs);
    } else if (p === '/fred/series/observations') {
      const r = this.fred(u.searchParams);
      status = r.status;
      contentType = 'application/json';
      file = { body: Buffer.from(r.body), ranges: false, etag: 'none' };
      if (this.pageDelayMs > 0) await sleep(this.pageDelayMs);
    } else if (p === '/q/d/l/') {
      file = { body: Buffer.from(this.stooq(u.searchParams)), etag: 'strong' };
    } else if (p.startsWith('/csv/')) {
      const symbol = decodeURIComponent(p.slice(5).replace(/\.csv$/, ''));
      file = { body: Buffer.from(this.dailyCsv(symbol, u.searchParams)), etag: 'strong' };
    } else {
      status = 404;
      file = { body: Buffer.from('not found'), ranges: false, etag: 'none' };
      contentType = 'text/plain';
    }
    await this.send(req, res, entry, status, file, contentType, fault, rule);
  }

  private async send(req: IncomingMessage, res: ServerResponse, entry: RequestLog, status: number, file: StaticFile, contentType: string, fault: FaultKind | undefined, rule: ActiveRule | undefined): Promise<void> {
    const body = file.body;
    const etag =
      file.etag === 'none' || status !== 200
        ? undefined
        : `${file.etag === 'weak' ? 'W/' : ''}"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    let start = 0;
    let end = body.length;
    const headers: Record<string, string | number> = { 'content-type': file.contentType ?? contentType };
    if (file.contentEncoding) headers['content-encoding'] = file.contentEncoding;
    if (etag) headers.etag = etag;
    if (status === 200 && file.ranges !== false) headers['accept-ranges'] = 'bytes';
    const range = req.headers.range;
    const ifRange = req.headers['if-range'];
    if (status === 200 && range && file.ranges !== false && (!ifRange || (etag && !etag.startsWith('W/') && ifRange === etag))) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(String(range));
      if (m) {
        start = Number(m[1]);
        end = m[2] ? Math.min(body.length, Number(m[2]) + 1) : body.length;
        if (start >= body.length) {
          entry.status = 416;
          res.writeHead(416, { 'content-range': `bytes */${body.length}` });
          res.end();
          return;
        }
        status = 206;
        headers['content-range'] = `bytes ${start}-${end - 1}/${body.length}`;
      }
    }
    entry.status = status;
    const slice = body.subarray(start, end);
    if (fault?.type === 'truncate') {
      // Chunked, no Content-Length: the client cannot tell that the body is cut short.
      res.writeHead(status, headers);
      const part = slice.subarray(0, Math.min(fault.bytes, slice.length));
      res.end(part);
      entry.bytes += part.length;
      rule?.then?.();
      return;
    }
    headers['content-length'] = slice.length;
    res.writeHead(status, headers);
    const chunk = 16 * 1024;
    const bps = file.bytesPerSecond ?? 0;
    let sent = 0;
    const dropAt = fault?.type === 'drop' ? fault.afterBytes : Infinity;
    const stallAt = fault?.type === 'stall' ? fault.afterBytes : Infinity;
    let stalled = false;
    while (sent < slice.length) {
      if (res.destroyed || req.socket.destroyed) return;
      if (sent >= dropAt) {
        rule?.then?.();
        res.socket?.destroy();
        return;
      }
      if (!stalled && sent >= stallAt && fault?.type === 'stall') {
        stalled = true;
        await sleep(fault.ms);
      }
      const n = Math.min(chunk, slice.length - sent, dropAt - sent, stallAt > sent ? stallAt - sent : chunk);
      const ok = res.write(slice.subarray(sent, sent + n));
      sent += n;
      entry.bytes += n;
      if (bps > 0) await sleep((n / bps) * 1000);
      // Queue nothing beyond the socket: what is "sent" is then what the kernel took.
      if (!ok && res.writableNeedDrain && !res.destroyed) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    }
    res.end();
    if (fault && fault.type !== 'drop') rule?.then?.();
  }

  private klines(q: URLSearchParams): { status: number; body: string } {
    const symbol = q.get('symbol') ?? '';
    const interval = q.get('interval') ?? '';
    const step = INTERVAL_MS[interval];
    if (!/^[A-Z0-9]{2,20}$/.test(symbol)) return { status: 400, body: JSON.stringify({ code: -1121, msg: 'Invalid symbol.' }) };
    if (!step) return { status: 400, body: JSON.stringify({ code: -1120, msg: 'Invalid interval.' }) };
    const limit = Math.min(1000, Number(q.get('limit') ?? 500));
    const startTime = Number(q.get('startTime') ?? 0);
    const endTime = Number(q.get('endTime') ?? Date.now());
    const listed = this.listedAt.get(symbol) ?? 0;
    const rev = this.revisions.get(symbol) ?? 0;
    const out: unknown[] = [];
    for (let t = Math.ceil(Math.max(startTime, listed) / step) * step; t <= endTime && out.length < limit; t += step) {
      const o = fakePrice(symbol, t, rev);
      const c = fakePrice(symbol, t + step, rev);
      const h = Math.max(o, c) * (1 + 0.01 * noise(symbol, t, 1));
      const l = Math.min(o, c) * (1 - 0.01 * noise(symbol, t, 2));
      const v = 1000 * (1 + noise(symbol, t, 3));
      out.push([t, fixed(o), fixed(h), fixed(l), fixed(c), fixed(v), t + step - 1, fixed(v * c), 100, fixed(v / 2), fixed((v * c) / 2), '0']);
    }
    return { status: 200, body: JSON.stringify(out) };
  }

  private fred(q: URLSearchParams): { status: number; body: string } {
    const bad = (msg: string) => ({ status: 400, body: JSON.stringify({ error_code: 400, error_message: msg }) });
    if (q.get('api_key') !== this.fredKey) return bad('Bad Request.  The value for variable api_key is not registered.  Read https://fred.stlouisfed.org/docs/api/api_key.html for more information.');
    const id = q.get('series_id') ?? '';
    if (!/^[A-Z0-9]{2,30}$/.test(id)) return bad('Bad Request.  The series does not exist.');
    const start = Date.parse(q.get('observation_start') ?? '1776-07-04');
    const end = Date.parse(q.get('observation_end') ?? '9999-12-31');
    const limit = Number(q.get('limit') ?? 100000);
    const offset = Number(q.get('offset') ?? 0);
    const rev = this.revisions.get(id) ?? 0;
    const all: { date: string; value: string }[] = [];
    // Monthly observations from 1990, every 7th missing (".").
    for (let y = 1990, m = 0; ; m++) {
      if (m === 12) {
        m = 0;
        y++;
      }
      const t = Date.UTC(y, m, 1);
      if (t > end || t > Date.UTC(2030, 0, 1)) break;
      if (t < start) continue;
      const i = (y - 1990) * 12 + m;
      all.push({ date: new Date(t).toISOString().slice(0, 10), value: i % 7 === 3 ? '.' : (fakePrice(id, t, rev) / 10).toFixed(2) });
    }
    const page = all.slice(offset, offset + limit).map((o) => ({ realtime_start: '2024-01-01', realtime_end: '2024-01-01', ...o }));
    return {
      status: 200,
      body: JSON.stringify({ realtime_start: '2024-01-01', realtime_end: '2024-01-01', observation_start: q.get('observation_start'), count: all.length, offset, limit, observations: page }),
    };
  }

  private stooq(q: URLSearchParams): string {
    const s = q.get('s') ?? '';
    if (s.includes('zzz') || s === '') return 'No data';
    const d1 = q.get('d1') ?? '19700101';
    const d2 = q.get('d2') ?? '20991231';
    const parse = (x: string) => Date.UTC(+x.slice(0, 4), +x.slice(4, 6) - 1, +x.slice(6, 8));
    const rev = this.revisions.get(s) ?? 0;
    const lines = ['Date,Open,High,Low,Close,Volume'];
    for (let t = Math.max(parse(d1), Date.UTC(2015, 0, 1)); t <= parse(d2); t += DAY) {
      const dow = new Date(t).getUTCDay();
      if (dow === 0 || dow === 6) continue;
      const o = fakePrice(s, t, rev);
      const c = fakePrice(s, t + DAY, rev);
      lines.push(`${new Date(t).toISOString().slice(0, 10)},${o.toFixed(2)},${(Math.max(o, c) * 1.01).toFixed(2)},${(Math.min(o, c) * 0.99).toFixed(2)},${c.toFixed(2)},${Math.round(1e6 * (1 + noise(s, t)))}`);
    }
    return lines.join('\n') + '\n';
  }

  private dailyCsv(symbol: string, q: URLSearchParams): string {
    const from = Date.parse(q.get('start') ?? '2020-01-01');
    const to = Date.parse(q.get('end') ?? '2020-12-31');
    const rev = this.revisions.get(symbol) ?? 0;
    const lines = ['date,open,high,low,close,volume'];
    for (let t = from; t <= to; t += DAY) {
      const o = fakePrice(symbol, t, rev);
      const c = fakePrice(symbol, t + DAY, rev);
      lines.push(`${new Date(t).toISOString().slice(0, 10)},${o.toFixed(4)},${(Math.max(o, c) * 1.01).toFixed(4)},${(Math.min(o, c) * 0.99).toFixed(4)},${c.toFixed(4)},${Math.round(1e5 * (1 + noise(symbol, t)))}`);
    }
    return lines.join('\n') + '\n';
  }
}

/** A CSV of `rows` minute bars, about 60 bytes a row: a large file for resume tests and benchmarks. */
export function largeCsv(rows: number, symbol = 'BIG', start = Date.UTC(2020, 0, 1)): Buffer {
  const parts: string[] = ['time,open,high,low,close,volume\n'];
  for (let i = 0; i < rows; i++) {
    const t = start + i * 60_000;
    const o = fakePrice(symbol, t);
    const c = fakePrice(symbol, t + 60_000);
    parts.push(`${t},${o.toFixed(4)},${(Math.max(o, c) * 1.001).toFixed(4)},${(Math.min(o, c) * 0.999).toFixed(4)},${c.toFixed(4)},${(100 + (i % 997)).toFixed(2)}\n`);
  }
  return Buffer.from(parts.join(''));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
