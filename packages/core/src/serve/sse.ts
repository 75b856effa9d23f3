import type { FastifyReply, FastifyRequest } from 'fastify';
import { progressText } from '../cli/progress-text.js';
import type { RunStore } from '../store/lmdb-store.js';

/**
 * Streams a run's events as server-sent events. Every `pollMs` it reads (in a fresh read
 * transaction, so never blocking a runner) the store's event feed after the last sequence sent,
 * and the progress of running tasks that changed. A comment line every 15 s keeps proxies open.
 */
export function streamEvents(req: FastifyRequest, reply: FastifyReply, store: () => RunStore | undefined, after: number | undefined, pollMs: number, open: Set<() => void>): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let last = after ?? store()?.lastEventSeq() ?? 0;
  const seen = new Map<string, number>();
  let closed = false;
  let keepAlive = Date.now();
  res.write(`event: hello\ndata: ${JSON.stringify({ after: last })}\n\n`);
  const tick = () => {
    if (closed) return;
    const s = store();
    if (!s) {
      res.end();
      return;
    }
    try {
      let n = 0;
      for (const ev of s.eventsAfter(last, 500)) {
        last = ev.seq;
        res.write(`id: ${ev.seq}\nevent: store\ndata: ${JSON.stringify({ seq: ev.seq, time: new Date(ev.time).toISOString(), type: ev.type, task: ev.task ?? null, state: ev.state ?? null })}\n\n`);
        n++;
      }
      const changed = [];
      const running = new Set<string>();
      for (const [id, [state]] of s.stateEntries()) {
        if (state !== 'running') continue;
        running.add(id);
        const t = s.getTask(id);
        const at = t?.progress?.updatedAt ?? 0;
        if (!t?.progress || seen.get(id) === at) continue;
        seen.set(id, at);
        const p = t.progress;
        changed.push({ id, step: p.step ?? null, total: p.total ?? null, fraction: p.total && p.step !== undefined ? Math.min(1, p.step / p.total) : null, text: progressText(p) || null, message: p.message ?? null, metrics: p.metrics ?? null });
      }
      for (const id of seen.keys()) if (!running.has(id)) seen.delete(id);
      if (changed.length > 0) res.write(`event: progress\ndata: ${JSON.stringify(changed)}\n\n`);
      if (n === 0 && changed.length === 0 && Date.now() - keepAlive > 15_000) {
        keepAlive = Date.now();
        res.write(': keep-alive\n\n');
      }
    } catch (err) {
      res.write(`event: error\ndata: ${JSON.stringify({ message: (err as Error).message })}\n\n`);
    }
  };
  const timer = setInterval(tick, pollMs);
  const stop = () => {
    closed = true;
    clearInterval(timer);
    open.delete(stop);
    if (!res.writableEnded) res.end();
  };
  open.add(stop);
  tick();
  req.raw.on('close', stop);
}
