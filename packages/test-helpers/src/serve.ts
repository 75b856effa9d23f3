/** Starts `runner serve`'s server in-process on 127.0.0.1:0 over a runs directory. */
import { createServer, type ServeOptions } from '../../core/src/serve/server.js';

export async function startServer(runsDir: string, opts: Partial<ServeOptions> = {}) {
  const token = opts.token ?? 'test-token-0123456789';
  const { app } = await createServer({ runsDir, host: '127.0.0.1', port: 0, token, requireTokenForReads: false, pollMs: 100, ...opts });
  const url = await app.listen({ host: opts.host ?? '127.0.0.1', port: 0 });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(url + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(method !== 'GET' ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, json, text, headers: r.headers };
  };
  return { app, url, token, call, close: () => app.close() };
}
