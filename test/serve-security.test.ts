/**
 * `runner serve`'s security rules: mutating endpoints need the token and POST/DELETE; a given
 * token guards reads too; nothing outside the runs directory is reachable (encoded traversal,
 * symlinks); bodies are validated and size-limited; foreign Host headers (DNS rebinding) are
 * refused; a non-loopback bind without a token does not start.
 */
import { request } from 'node:http';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO, runCli, tempProject } from '@runner/test-helpers/cli';
import { startServer } from '@runner/test-helpers/serve';

const TICKER = join(REPO, 'test/fixtures/ticker.mjs');
let dir: string;
let open: Awaited<ReturnType<typeof startServer>>;
let guarded: Awaited<ReturnType<typeof startServer>>;

/** A raw request, so that the path and the Host header go out exactly as written. */
function raw(url: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = tempProject({
    'job.yaml': `name: job
plugins: [${TICKER}]
matrix: { n: [1, 2] }
stages:
  - { id: fit, plugin: ticker, options: { steps: 10, stepMs: 1 } }
`,
  });
  expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(0);
  // A run-like directory outside the runs directory, and a symlink to it inside.
  const outside = join(dir, 'secret-run');
  mkdirSync(outside);
  writeFileSync(join(outside, 'store.mdb'), 'not for you');
  symlinkSync(outside, join(dir, 'runs', 'escape'));
  open = await startServer(join(dir, 'runs'));
  guarded = await startServer(join(dir, 'runs'), { token: 'given-token-abcdef', requireTokenForReads: true });
});

afterAll(async () => {
  await open?.close();
  await guarded?.close();
});

describe('tokens and methods', () => {
  test('a mutating request without the token is 401, with a wrong one 403', async () => {
    const body = JSON.stringify({ task: 'fit/n=1/cycle=1' });
    const none = await fetch(`${open.url}/api/runs/job/resume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(none.status).toBe(401);
    const wrong = await fetch(`${open.url}/api/runs/job/resume`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer nope' }, body });
    expect(wrong.status).toBe(403);
    const del = await fetch(`${open.url}/api/runs/job/checkpoints/fit/n=1/cycle=1`, { method: 'DELETE', headers: { authorization: 'Bearer nope' } });
    expect(del.status).toBe(403);
    // The token in a cookie or the query does not authorise a change (no CSRF through the browser).
    const cookie = await fetch(`${open.url}/api/runs/job/resume?token=${open.token}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: `runner_token=${open.token}` }, body });
    expect(cookie.status).toBe(401);
  });

  test('changes only through POST/DELETE: GET on a mutating path changes nothing', async () => {
    expect((await open.call('GET', '/api/runs/job/resume?task=fit/n=1/cycle=1')).status).toBe(404);
    expect((await open.call('PUT', '/api/runs/job/resume', { task: 'fit/n=1/cycle=1' })).status).toBe(404);
  });

  test('a given token guards reads too: header, or ?token= once (then a cookie)', async () => {
    expect((await fetch(`${guarded.url}/api/runs`)).status).toBe(401);
    expect((await fetch(`${guarded.url}/api/runs`, { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(403);
    expect((await fetch(`${guarded.url}/`)).status).toBe(401);
    const page = await fetch(`${guarded.url}/?token=given-token-abcdef`);
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^runner_token=given-token-abcdef; HttpOnly; SameSite=Strict/);
    expect((await fetch(`${guarded.url}/api/runs`, { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
    expect((await fetch(`${guarded.url}/api/runs`, { headers: { authorization: 'Bearer given-token-abcdef' } })).status).toBe(200);
  });

  test('a foreign Host header (DNS rebinding) is refused', async () => {
    expect((await raw(open.url, '/api/runs', { host: 'evil.example:80' })).status).toBe(403);
    expect((await raw(open.url, '/', { host: `attacker.test:${new URL(open.url).port}` })).status).toBe(403);
    expect((await raw(open.url, '/api/runs', { host: `localhost:${new URL(open.url).port}` })).status).toBe(200);
  });
});

describe('nothing outside the runs directory', () => {
  for (const path of [
    '/api/runs/..%2F..%2Fetc/tasks',
    '/api/runs/%2e%2e/tasks',
    '/api/runs/%2E%2E%2Fsecret-run/tasks',
    '/api/runs/..%252f..%252fetc/tasks',
    '/api/runs/.%2e/checkpoints',
    '/api/runs/job%00/tasks',
    '/api/runs/..',
    '/api/runs/../../etc/passwd',
    '/api/runs/escape/tasks',
    '/api/runs/escape/report.html',
  ]) {
    test(path, async () => {
      const r = await raw(open.url, path, { host: new URL(open.url).host });
      expect([400, 404]).toContain(r.status);
      expect(r.body).not.toContain('not for you');
      expect(r.body).not.toContain('root:');
    });
  }
  test('the symlinked directory is not listed as a run', async () => {
    expect((await open.call('GET', '/api/runs')).json.runs.map((r: any) => r.name)).toEqual(['job']);
  });
});

describe('bodies', () => {
  test('oversized bodies are refused with 413', async () => {
    const r = await open.call('POST', '/api/runs/job/resume', { task: 'x'.repeat(20_000) });
    expect(r.status).toBe(413);
  });
  test('unknown keys, wrong types and missing fields are 400', async () => {
    expect((await open.call('POST', '/api/runs/job/resume', { task: 'fit/n=1/cycle=1', extra: 1 })).status).toBe(400);
    expect((await open.call('POST', '/api/runs/job/resume', { task: 5 })).status).toBe(400);
    expect((await open.call('POST', '/api/runs/job/resume', {})).status).toBe(400);
    expect((await open.call('POST', '/api/runs/job/resume', '{"task":')).status).toBe(400);
    expect((await open.call('POST', '/api/runs/job/checkpoints/prune', { olderThan: '30 parsecs' })).status).toBe(400);
  });
});

describe('binding', () => {
  test('a non-loopback address without a token does not start (exit 2)', async () => {
    const r = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--runs', 'runs'], { cwd: dir, env: { RUNNER_SERVE_TOKEN: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--host 0.0.0.0 is reachable from other machines, and no token was given');
  });
});
