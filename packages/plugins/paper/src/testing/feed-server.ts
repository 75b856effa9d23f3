/**
 * A live bar feed on 127.0.0.1 that speaks the paper plugin's poll protocol
 * (`GET /bars?since=<ms>` → JSON array of bars after `since`) and injects the faults real feeds
 * have: 5xx answers, connections dropped mid-response, responses that hang, duplicate bars,
 * out-of-order (late) bars and revised bars. The test decides which bars exist (`push`) and which
 * faults the next requests get (`fault`). Used by the tests and the benchmark; anyone can use it
 * to try a paper trader offline.
 *
 * @example
 * ```ts
 * import { FeedServer, syntheticBars } from '@runner/plugin-paper/testing';
 * const server = await FeedServer.start();
 * server.push(...syntheticBars(100));
 * server.fault({ type: 'status', status: 500 }, 2);
 * // feed: { type: poll, url: server.url, intervalMs: 50 }
 * await server.close();
 * ```
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bar } from '../feed/types.js';

export type { Bar } from '../feed/types.js';

export type FeedFault =
  /** Answer with this status and a short text body. */
  | { type: 'status'; status: number }
  /** Send the first bytes of the JSON body, then destroy the connection. */
  | { type: 'drop'; afterBytes?: number }
  /** Wait this long before answering (longer than the client's timeout: a hung request). */
  | { type: 'hang'; ms: number }
  /** Send the last three bars at or before `since` again, before the new ones. */
  | { type: 'duplicate' }
  /** Append a bar older than `since` (a late bar with made-up values). */
  | { type: 'out-of-order' }
  /** Resend the bar at `since` with a different close (a revision after the fact). */
  | { type: 'revise' };

export interface FeedRequest {
  since?: number;
  /** Epoch ms the request arrived. */
  at: number;
  fault?: FeedFault['type'];
  /** Bars sent (0 for a fault without a body). */
  bars: number;
}

export class FeedServer {
  readonly requests: FeedRequest[] = [];
  private readonly bars: Bar[] = [];
  private readonly faults: { kind: FeedFault; left: number }[] = [];
  private readonly waiters = new Set<() => void>();
  /** At most this many bars per response (0: all). */
  batch = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FeedServer> {
    let self!: FeedServer;
    const server = createServer((req, res) => self.handle(req, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new FeedServer(server, `http://127.0.0.1:${port}/bars`);
    return self;
  }

  /** Makes bars available to the next requests (they must be in time order). */
  push(...bars: Bar[]): void {
    this.bars.push(...bars);
  }

  get available(): number {
    return this.bars.length;
  }

  /** The next `times` requests get this fault (faults queue in order). */
  fault(kind: FeedFault, times = 1): void {
    this.faults.push({ kind, left: times });
  }

  /** Resolves once `pred` holds after some request (checked on every request). */
  async waitFor(pred: (requests: FeedRequest[]) => boolean): Promise<void> {
    while (!pred(this.requests)) await new Promise<void>((r) => this.waiters.add(r));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const sinceText = u.searchParams.get('since');
    const since = sinceText === null ? undefined : Number(sinceText);
    const f = this.faults[0];
    let fault: FeedFault | undefined;
    if (f) {
      fault = f.kind;
      if (--f.left <= 0) this.faults.shift();
    }
    const record: FeedRequest = { at: Date.now(), bars: 0, ...(since === undefined ? {} : { since }), ...(fault ? { fault: fault.type } : {}) };
    this.requests.push(record);
    const notify = () => {
      for (const w of [...this.waiters]) {
        this.waiters.delete(w);
        w();
      }
    };
    if (u.pathname !== '/bars') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: use /bars');
      notify();
      return;
    }
    let out = this.bars.filter((b) => since === undefined || b.time > since);
    if (this.batch > 0) out = out.slice(0, this.batch);
    switch (fault?.type) {
      case 'status':
        res.writeHead(fault.status, { 'content-type': 'text/plain' }).end(`injected ${fault.status}`);
        notify();
        return;
      case 'hang': {
        const t = setTimeout(() => this.send(res, out, record, notify), fault.ms);
        res.on('close', () => clearTimeout(t));
        return;
      }
      case 'drop': {
        const body = JSON.stringify(out.length > 0 ? out : this.bars.slice(-3));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.write(body.slice(0, Math.min(body.length - 1, fault.afterBytes ?? Math.ceil(body.length / 2))));
        setImmediate(() => {
          res.destroy();
          notify();
        });
        return;
      }
      case 'duplicate':
        out = [...this.bars.filter((b) => since !== undefined && b.time <= since).slice(-3), ...out];
        break;
      case 'out-of-order': {
        const older = this.bars.filter((b) => since !== undefined && b.time < since);
        const late = older[older.length - 1];
        if (late) out = [...out.slice(0, 1), { ...late, close: late.close * 1.01, high: Math.max(late.high, late.close * 1.01) }, ...out.slice(1)];
        break;
      }
      case 'revise': {
        const at = this.bars.find((b) => b.time === since);
        if (at) out = [{ ...at, close: at.close * 0.99, low: Math.min(at.low, at.close * 0.99) }, ...out];
        break;
      }
    }
    this.send(res, out, record, notify);
  }

  private send(res: ServerResponse, bars: Bar[], record: FeedRequest, notify: () => void): void {
    record.bars = bars.length;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(bars));
    notify();
  }
}

/**
 * A seeded random walk of OHLCV bars, `stepMs` apart from `start`: the same arguments give the
 * same bars.
 */
export function syntheticBars(n: number, options: { start?: number; stepMs?: number; seed?: number; price?: number } = {}): Bar[] {
  const { start = Date.UTC(2024, 0, 1), stepMs = 60_000, seed = 7, price = 100 } = options;
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const out: Bar[] = [];
  let p = price;
  for (let i = 0; i < n; i++) {
    const open = p;
    const close = Math.round(open * Math.exp((rand() - 0.5) * 0.02) * 100) / 100;
    const high = Math.round(Math.max(open, close) * (1 + rand() * 0.003) * 100) / 100;
    const low = Math.round(Math.min(open, close) * (1 - rand() * 0.003) * 100) / 100;
    out.push({ time: start + i * stepMs, open, high, low, close, volume: Math.round(1000 + rand() * 1000) });
    p = close;
  }
  return out;
}
