import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export const TOKEN_ENV = 'RUNNER_SERVE_TOKEN';
export const TOKEN_COOKIE = 'runner_token';

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const h = host.replace(/^\[|\]$/g, '');
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h.startsWith('::ffff:127.');
  return false;
}

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function sameToken(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>` or `X-Runner-Token`: the only ways a mutating request may carry it. */
export function headerToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  const x = headers['x-runner-token'];
  return typeof x === 'string' ? x : undefined;
}

export function cookieToken(cookie: string | undefined): string | undefined {
  if (!cookie) return undefined;
  for (const part of cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === TOKEN_COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * Host headers a loopback server answers: its own address and `localhost` with its port. A page
 * on another site whose name resolves to 127.0.0.1 (DNS rebinding) sends its own name and is refused.
 */
export function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set([host, 'localhost', '127.0.0.1', '[::1]']);
  const out = new Set<string>();
  for (const n of names) {
    const shown = n.includes(':') && !n.startsWith('[') ? `[${n}]` : n;
    out.add(`${shown}:${port}`);
    if (port === 80) out.add(shown);
  }
  return out;
}
