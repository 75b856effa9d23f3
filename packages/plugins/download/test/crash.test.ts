/**
 * The real thing: `runner start` in a child process, downloading from a slow local server,
 * killed with SIGKILL mid-download, started again. The files must be byte-identical to an
 * uninterrupted run's, and the large file must not be fetched again beyond 5%.
 * Needs `pnpm build` (the CLI runs the built plugin).
 */
import { appendFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readSeries } from '@runner/core/series';
import { cliJson, REPO, runCli, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';
import { FakeMarketServer, largeCsv } from '../src/testing/fake-server.js';
import { fileSha, partialBytes } from './helpers.js';

let server: FakeMarketServer;
const BIG = largeCsv(60_000); // ~3.4 MB
const projects: string[] = [];

beforeAll(async () => {
  server = await FakeMarketServer.start();
  // Slow enough that a kill lands mid-download: ~2.3 s for the file, ~2 s per klines series.
  server.file('/big.csv', { body: BIG, bytesPerSecond: 1_500_000 });
  server.pageDelayMs = 35;
});
afterAll(async () => {
  await server.close();
  for (const p of projects) rmSync(p, { recursive: true, force: true });
});

function job(url: string): string {
  return `name: dl-crash
matrix: { symbol: [BTCUSDT, ETHUSDT] }
pool: { threads: 3 }
stages:
  - id: klines
    plugin: download
    per: [symbol]
    options:
      source: { type: binance-klines, baseUrl: "${url}", interval: 1h, start: 2024-01-01, end: 2024-03-01, limit: 24 }
      concurrency: 1
      rateLimit: { perSecond: 0 }
  - id: big
    plugin: download
    per: []
    options:
      symbol: BIG
      source: { type: http-csv, url: "${url}/big.csv" }
      rateLimit: { perSecond: 0 }
  - id: read
    plugin: ./reader.mjs
    needs: [klines]
`;
}

// A downstream stage that opens the series the way the trainer and backtester do.
const reader = `import { readSeries } from ${JSON.stringify(join(REPO, 'packages/core/dist/series/index.js'))};
export default {
  name: 'reader',
  version: '1.0.0',
  schema: { type: 'object', properties: {} },
  async run(ctx) {
    const { file } = ctx.upstream.klines.result;
    const s = await readSeries(file);
    return { rows: s.rows, isFloat64: s.columns.close instanceof Float64Array };
  },
};
`;

interface TaskRow {
  id: string;
  stage: string;
  state: string;
  attempts: number;
  result: { file?: string; sha256?: string; rows?: number; isFloat64?: boolean } | null;
}

async function results(cwd: string): Promise<Map<string, TaskRow>> {
  const rows = await cliJson<TaskRow[]>(['tasks', 'job.yaml'], { cwd });
  return new Map(rows.map((r) => [r.id, r]));
}

test('SIGKILL mid-download, then rerun: identical files, the large one fetched again at most 5%', async () => {
  // The reference: an uninterrupted run.
  const clean = tempProject({ 'job.yaml': job(server.url), 'reader.mjs': reader }, 'dl-clean-');
  projects.push(clean);
  const ref = await runCli(['start', 'job.yaml'], { cwd: clean });
  expect(ref.code, ref.stdout + ref.stderr).toBe(0);
  const expected = await results(clean);

  const sentBefore = server.bytesSent('/big.csv');
  const pagesBefore = server.requests('/api/v3/klines').length;
  const proj = tempProject({ 'job.yaml': job(server.url), 'reader.mjs': reader }, 'dl-crash-');
  projects.push(proj);
  const first = spawnCli(['start', 'job.yaml'], { cwd: proj });
  const pagesOf = (sym: string) => server.requests(`/api/v3/klines?symbol=${sym}`).length;
  const base = { BTCUSDT: pagesOf('BTCUSDT'), ETHUSDT: pagesOf('ETHUSDT') };
  await waitFor(
    () => server.bytesSent('/big.csv') - sentBefore > BIG.length * 0.4 && pagesOf('BTCUSDT') - base.BTCUSDT > 15 && pagesOf('ETHUSDT') - base.ETHUSDT > 15,
    30_000,
    'the downloads to be under way',
  );
  first.child.kill('SIGKILL');
  const killed = await first.done;
  expect(killed.signal).toBe('SIGKILL');
  const refetchFrom = server.bytesSent('/big.csv') - sentBefore;
  expect(refetchFrom).toBeLessThan(BIG.length * 0.9);

  // No partial file at a final path: series not finished have no .arrow in the data directory.
  const received = partialBytes(join(proj, 'runs', 'dl-crash'));
  const arrows = (existsSync(join(proj, 'data')) ? readdirSync(join(proj, 'data'), { recursive: true }) : []).map(String).filter((f) => f.endsWith('.arrow'));
  expect(arrows.some((f) => f.includes('http-csv'))).toBe(false);

  const second = await runCli(['start', 'job.yaml'], { cwd: proj });
  expect(second.code, second.stdout + second.stderr).toBe(0);
  const got = await results(proj);
  for (const [id, exp] of expected) {
    const row = got.get(id)!;
    expect(row.state).toBe('completed');
    if (exp.stage === 'read') {
      expect(row.result).toEqual({ rows: 1440, isFloat64: true });
      continue;
    }
    expect(row.result!.sha256, id).toBe(exp.result!.sha256);
    expect(fileSha(row.result!.file!)).toBe(exp.result!.sha256);
    expect(fileSha(row.result!.file!)).toBe(fileSha(exp.result!.file!));
  }
  expect(got.get('big/cycle=1')!.attempts).toBe(2);
  // The large file: what the killed run had received, the rerun asks for again at most 5% of.
  const resumed = server.requests('/big.csv').at(-1)!;
  expect(resumed).toMatchObject({ status: 206, ifRange: expect.stringMatching(/^"/) });
  const resumeAt = Number(/^bytes=(\d+)-$/.exec(resumed.range!)![1]);
  expect(received).toBeGreaterThan(BIG.length * 0.3);
  expect(received - resumeAt).toBeGreaterThanOrEqual(0);
  expect(received - resumeAt).toBeLessThanOrEqual(BIG.length * 0.05);
  // On the wire: the resumed request carried exactly the rest of the file. (What sat in socket
  // buffers at the kill depends on the kernel and on how far a busy runner fell behind.)
  expect(resumed.bytes).toBe(BIG.length - resumeAt);
  expect(server.bytesSent('/big.csv') - sentBefore).toBeGreaterThanOrEqual(BIG.length);
  // Pages: each once, plus those in flight at the kill and one re-check per resumed series.
  const pages = server.requests('/api/v3/klines').length - pagesBefore;
  expect(pages).toBeLessThanOrEqual(2 * 60 + 2 * 4);
  const s = await readSeries(got.get('big/cycle=1')!.result!.file!);
  expect(s.rows).toBe(60_000);

  // `runner data` lists what the data directory holds, and --verify notices a damaged file.
  const listed = await cliJson<{ symbol: string; source: string; rows: number; status: string }[]>(['data', 'job.yaml', '--verify'], { cwd: proj });
  expect(listed.map((e) => `${e.source}:${e.symbol}:${e.rows}:${e.status}`).sort()).toEqual([
    'binance-klines:BTCUSDT:1440:ok',
    'binance-klines:ETHUSDT:1440:ok',
    'http-csv:BIG:60000:ok',
  ]);
  appendFileSync(got.get('big/cycle=1')!.result!.file!, 'x');
  const check = await runCli(['data', 'job.yaml', '--verify'], { cwd: proj });
  expect(check.code).toBe(1);
  expect(check.stdout).toMatch(/http-csv\s+BIG\s+60000 .* DAMAGED/);
  expect(check.stderr).toMatch(/1 file do not match their manifests: BIG\./);
}, 90_000);

test('the per-host rate limit holds across tasks running in parallel', async () => {
  const url = server.url;
  server.pageDelayMs = 0;
  const proj = tempProject(
    {
      'job.yaml': `name: dl-rate
matrix: { symbol: [AAAUSDT, BBBUSDT, CCCUSDT] }
pool: { threads: 3 }
stages:
  - id: klines
    plugin: download
    options:
      source: { type: binance-klines, baseUrl: "${url}", interval: 1h, start: 2024-01-01, end: 2024-01-09, limit: 24 }
      rateLimit: { perSecond: 25, burst: 1 }
`,
    },
    'dl-rate-',
  );
  projects.push(proj);
  const r = await runCli(['start', 'job.yaml'], { cwd: proj });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const at = server
    .requests(/klines\?symbol=(AAA|BBB|CCC)USDT/)
    .map((q) => q.at)
    .sort((a, b) => a - b);
  expect(at).toHaveLength(24);
  // 24 requests at 25/s from three threads: 40 ms apart. Arrival times jitter by the send
  // latency (the first request of a task also opens its connection), so allow 10%.
  expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(23 * 40 * 0.9);
  // Arrival times are taken by the test's own busy event loop, so allow 100 ms of noise.
  for (let i = 0; i + 10 < at.length; i++) expect(at[i + 10]! - at[i]!).toBeGreaterThanOrEqual(10 * 40 - 100);
  expect(existsSync(join(proj, 'data', 'binance-klines'))).toBe(true);
}, 60_000);
