#!/usr/bin/env node
// Download plugin benchmark, against a local server it starts itself (no network).
//
//   pnpm bench download [--small 200] [--large-mb 40] [--refetch-mb 24]
//
// 1. Many small series: one task with a `symbols` list of N daily CSVs (~20 KB each),
//    at concurrency 1, 4 and 16; series per second, end to end (fetch, parse, check, store).
// 2. One large file: an http-csv download of a ~40 MB CSV at concurrency 1, 4 and 16 (one
//    stream either way); MB of CSV per second, end to end. Anchor: curl fetching the same
//    file to /dev/null (transfer only, no parsing or storing).
// 3. Refetch after a kill: `runner start` downloading a paced file is SIGKILLed at 50% of
//    the bytes, then started again; the bytes sent twice, as % of the file size.
//
// Ends with: RESULT small_series_per_s=<n> large_mb_per_s=<n> refetch_pct=<n>
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPlugin } from '@runner/core/testing';
import plugin from '@runner/plugin-download';
import { FakeMarketServer, largeCsv } from '@runner/plugin-download/testing';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');
const RUNNER = join(REPO, 'packages/core/bin/runner.js');
const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SMALL = arg('small', 200);
const LARGE_MB = arg('large-mb', 40);
const REFETCH_MB = arg('refetch-mb', 24);
const CONCURRENCY = [1, 4, 16];
const NO_LIMITS = { rateLimit: { perSecond: 0, burst: 1 }, retries: { max: 3, baseMs: 10, maxMs: 100, maxRetryAfterMs: 1000 } };

const dirs = [];
const tmp = (p) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
const fmt = (x, d = 1) => x.toFixed(d);

async function download(options, cell) {
  const t0 = performance.now();
  const r = await runPlugin(plugin, { ...NO_LIMITS, ...options }, { dir: tmp('dl-bench-'), task: { id: 'download/cycle=1', cell } });
  const ms = performance.now() - t0;
  if (r.outcome !== 'completed') throw new Error(`download failed: ${r.error?.message}`);
  return { ms, result: r.result };
}

const server = await FakeMarketServer.start();
try {
  console.log(`download benchmark — Node ${process.version}, local server ${server.url}\n`);

  // 1. Many small series.
  const symbols = Array.from({ length: SMALL }, (_, i) => `S${String(i).padStart(4, '0')}`);
  const smallSource = { type: 'http-csv', url: `${server.url}/csv/{symbol}.csv?start=2023-01-01&end=2023-12-31`, start: '2023-01-01', end: '2023-12-31' };
  await download({ symbols: symbols.slice(0, 4), source: smallSource, concurrency: 4 }); // warm up
  console.log(`small series: ${SMALL} daily CSVs of 365 rows (~${fmt(server.bytesSent('/csv/S0000') / 1024, 0)} KB) in one task`);
  console.log('  concurrency   series/s   total');
  let bestSmall = 0;
  for (const c of CONCURRENCY) {
    const { ms, result } = await download({ symbols, source: smallSource, concurrency: c });
    if (result.series.length !== SMALL) throw new Error('missing series');
    const perS = SMALL / (ms / 1000);
    bestSmall = Math.max(bestSmall, perS);
    console.log(`  ${String(c).padStart(11)}   ${fmt(perS).padStart(8)}   ${fmt(ms / 1000, 2)} s`);
  }

  // 2. One large file.
  const big = largeCsv(Math.round((LARGE_MB * 1048576) / 58));
  server.file('/large.csv', { body: big });
  const mb = big.length / 1048576;
  console.log(`\nlarge file: one CSV of ${fmt(mb)} MB (${big.length} bytes)`);
  console.log('  concurrency   MB/s    total');
  let bestLarge = 0;
  for (const c of CONCURRENCY) {
    const { ms, result } = await download({ source: { type: 'http-csv', url: `${server.url}/large.csv` }, concurrency: c }, { symbol: 'LARGE' });
    if (result.bytesFetched !== big.length) throw new Error(`fetched ${result.bytesFetched} of ${big.length} bytes`);
    const rate = mb / (ms / 1000);
    bestLarge = Math.max(bestLarge, rate);
    console.log(`  ${String(c).padStart(11)}   ${fmt(rate).padStart(5)}   ${fmt(ms / 1000, 2)} s   (${result.rows} rows)`);
  }
  const curl = await timeCommand('curl', ['-s', '-o', '/dev/null', `${server.url}/large.csv`]);
  if (curl !== undefined) console.log(`  anchor: curl -o /dev/null (transfer only): ${fmt(mb / (curl / 1000))} MB/s`);
  const pySmall = await pythonSmall(server.url, SMALL);
  if (pySmall !== undefined) console.log(`\n  anchor for small series: Python urllib, 16 threads, fetch only (no parse/store): ${fmt(pySmall)} series/s`);

  // 3. Bytes fetched again after a SIGKILL at 50%.
  const paced = largeCsv(Math.round((REFETCH_MB * 1048576) / 58), 'PACED');
  server.file('/paced.csv', { body: paced, bytesPerSecond: 12 * 1048576 });
  const refetch = await killAndResume(server, paced.length);
  console.log(`\nrefetch after SIGKILL at 50%: runner start on a ${fmt(paced.length / 1048576)} MB file paced at 12 MB/s`);
  console.log(`  killed at ${fmt(refetch.killedAtPct)}% sent; the killed run had received ${fmt(refetch.receivedPct)}%, the rerun resumed at ${fmt(refetch.resumedAtPct)}%`);
  console.log(`  received before the kill and asked for again: ${fmt(refetch.clientPct, 2)}% of the file`);
  console.log(`  on the wire (incl. what sat in socket buffers at the kill): ${refetch.total} bytes sent for ${paced.length}: ${fmt(refetch.pct, 2)}% sent twice`);
  console.log(`  second run: resumed with ${refetch.lastRange ?? 'no Range request'} (HTTP ${refetch.lastStatus}); files identical to an uninterrupted download: ${refetch.identical}`);

  console.log(`\nRESULT small_series_per_s=${fmt(bestSmall)} large_mb_per_s=${fmt(bestLarge)} refetch_pct=${fmt(refetch.pct, 2)}`);
} finally {
  await server.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

function timeCommand(cmd, argv) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn(cmd, argv, { stdio: 'ignore' });
    p.on('error', () => resolve(undefined));
    p.on('close', (code) => resolve(code === 0 ? performance.now() - t0 : undefined));
  });
}

function pythonSmall(url, n) {
  const code = `import time, urllib.request, concurrent.futures as cf
urls = ["${url}/csv/S%04d.csv?start=2023-01-01&end=2023-12-31" % i for i in range(${n})]
t = time.perf_counter()
with cf.ThreadPoolExecutor(16) as ex: list(ex.map(lambda u: urllib.request.urlopen(u).read(), urls))
print(${n} / (time.perf_counter() - t))`;
  return new Promise((resolve) => {
    let out = '';
    const p = spawn('/usr/bin/python3', ['-c', code], { stdio: ['ignore', 'pipe', 'ignore'] });
    p.stdout.on('data', (d) => (out += d));
    p.on('error', () => resolve(undefined));
    p.on('close', (c) => resolve(c === 0 ? Number(out.trim()) : undefined));
  });
}

function runner(cwd) {
  const child = spawn(process.execPath, [RUNNER, 'start', 'job.yaml'], { cwd, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
  return { child, done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))) };
}

function project(url) {
  const dir = tmp('dl-bench-proj-');
  writeFileSync(join(dir, 'package.json'), '{"name":"bench","private":true}');
  writeFileSync(
    join(dir, 'job.yaml'),
    `name: refetch\nstages:\n  - id: download\n    plugin: download\n    options:\n      symbol: PACED\n      source: { type: http-csv, url: "${url}/paced.csv" }\n      rateLimit: { perSecond: 0 }\n`,
  );
  return dir;
}

async function killAndResume(server, size) {
  const sha = (file) => spawnSync('sha256sum', [file], { encoding: 'utf8' }).stdout.split(' ')[0];
  // The reference: an uninterrupted run.
  const clean = project(server.url);
  const ref = runner(clean);
  if ((await ref.done).code !== 0) throw new Error('the uninterrupted run failed');
  const before = server.bytesSent('/paced.csv');
  const proj = project(server.url);
  const first = runner(proj);
  while (server.bytesSent('/paced.csv') - before < size / 2) await new Promise((r) => setTimeout(r, 5));
  first.child.kill('SIGKILL');
  await first.done;
  const killedAt = server.bytesSent('/paced.csv') - before;
  const partial = spawnSync('find', [join(proj, 'runs'), '-name', '*.download', '-printf', '%s'], { encoding: 'utf8' }).stdout.trim();
  const received = Number(partial || 0);
  const second = runner(proj);
  if ((await second.done).code !== 0) throw new Error('the resumed run failed');
  const total = server.bytesSent('/paced.csv') - before;
  const last = server.requests('/paced.csv').at(-1);
  const find = (dir) => spawnSync('find', [join(dir, 'data'), '-name', 'PACED.arrow'], { encoding: 'utf8' }).stdout.trim();
  const resumedAt = Number(/^bytes=(\d+)-$/.exec(last?.range ?? '')?.[1] ?? 0);
  return {
    receivedPct: (received / size) * 100,
    resumedAtPct: (resumedAt / size) * 100,
    clientPct: ((received - resumedAt) / size) * 100,
    killedAtPct: (killedAt / size) * 100,
    total,
    pct: ((total - size) / size) * 100,
    lastRange: last?.range,
    lastStatus: last?.status,
    identical: sha(find(clean)) === sha(find(proj)),
  };
}
