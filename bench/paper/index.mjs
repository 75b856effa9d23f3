#!/usr/bin/env node
// Paper trader benchmark: how many bars per second the trader commits durably, in process
// (runPlugin, a real run store on this machine's disk), replaying a stored series at speed max.
//
//   pnpm bench paper [--bars 3000]
//
// 1. durability: flushed — every bar's LMDB transaction is fsynced before the next bar is read
//    (plus the simulated broker's own durable transactions on bars with orders or fills).
//    Bars/s, fills/s, and p50/p99 latency per bar: the ledger commit alone and the whole bar.
// 2. durability: committed — the same with commits flushed in the background, for comparison.
// 3. Anchors on the same disk: a plain file append + fdatasync per bar (Node), and SQLite with
//    synchronous=FULL, one INSERT + COMMIT per bar (Debian's /usr/bin/python3).
//
// Ends with: RESULT durable_bars_per_s=<n> trades_per_s=<n> p99_commit_ms=<n>
import { spawnSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPlugin } from '@runner/core/testing';
import { writeSeries } from '@runner/core/series';
import plugin from '@runner/plugin-paper';
import { syntheticBars } from '@runner/plugin-paper/testing';

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const BARS = arg('bars', 3000);
const dirs = [];
const tmp = (p) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
const fmt = (x, d = 1) => (x === null || x === undefined ? '-' : Number(x).toFixed(d));
const pct = (xs, p) => {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

const bars = syntheticBars(BARS, { seed: 5, stepMs: 60_000 });
const dataDir = tmp('paper-bench-data-');
const file = join(dataDir, 'AAA.arrow');
await writeSeries(
  file,
  {
    time: Float64Array.from(bars, (b) => b.time),
    open: Float64Array.from(bars, (b) => b.open),
    high: Float64Array.from(bars, (b) => b.high),
    low: Float64Array.from(bars, (b) => b.low),
    close: Float64Array.from(bars, (b) => b.close),
    volume: Float64Array.from(bars, (b) => b.volume),
  },
  { symbol: 'AAA' },
);

async function paper(durability) {
  const dir = tmp('paper-bench-run-');
  const t0 = performance.now();
  const r = await runPlugin(
    plugin,
    {
      feed: { type: 'replay', from: 'download', speed: 'max' },
      strategy: { type: 'sma-cross', fast: 3, slow: 8 },
      cash: 100000,
      commission: { pct: 0.1 },
      sizing: { units: 10 },
      durability,
      report: false,
    },
    {
      dir,
      task: { id: 'paper/symbol=AAA/cycle=1', stage: 'paper', cell: { symbol: 'AAA' } },
      upstream: { download: { id: 'download/symbol=AAA/cycle=1', stage: 'download', cell: { symbol: 'AAA' }, result: { file }, artifactDir: dataDir } },
    },
  );
  const s = (performance.now() - t0) / 1000;
  if (r.outcome !== 'completed') throw new Error(`paper failed: ${r.error?.message}`);
  return { s, result: r.result };
}

function fsyncAnchor(n) {
  const dir = tmp('paper-bench-append-');
  const fd = openSync(join(dir, 'log.jsonl'), 'a');
  const lat = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    const b = bars[i % bars.length];
    writeSync(fd, JSON.stringify({ i, t: b.time, cash: 100000 - i, pos: i % 20, eq: b.close * 10 }) + '\n');
    fdatasyncSync(fd);
    lat.push(performance.now() - a);
  }
  const s = (performance.now() - t0) / 1000;
  closeSync(fd);
  return { perS: n / s, p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

function sqliteAnchor(n) {
  const dir = tmp('paper-bench-sqlite-');
  const py = `
import sqlite3, time, sys, json
n = int(sys.argv[1]); db = sqlite3.connect(sys.argv[2], isolation_level=None)
db.execute('PRAGMA journal_mode=WAL'); db.execute('PRAGMA synchronous=FULL')
db.execute('CREATE TABLE bars (i INTEGER PRIMARY KEY, t REAL, cash REAL, pos REAL, eq REAL)')
db.execute('CREATE TABLE state (k TEXT PRIMARY KEY, v TEXT)')
lat = []; t0 = time.perf_counter()
for i in range(n):
    a = time.perf_counter()
    db.execute('BEGIN'); db.execute('INSERT INTO bars VALUES (?,?,?,?,?)', (i, i * 60000.0, 100000.0 - i, i % 20, 1000.0 + i))
    db.execute('INSERT OR REPLACE INTO state VALUES (?,?)', ('last', str(i))); db.execute('COMMIT')
    lat.append((time.perf_counter() - a) * 1000)
s = time.perf_counter() - t0; lat.sort()
print(json.dumps({'perS': n / s, 'p50': lat[len(lat) // 2], 'p99': lat[min(len(lat) - 1, int(0.99 * len(lat)))]}))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, String(n), join(dir, 'bench.db')], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout.trim());
}

try {
  console.log(`paper trader benchmark — Node ${process.version}, ${BARS} one-minute bars, sma-cross 3/8 (a fill every few bars), store in ${tmpdir()}\n`);
  await paper('flushed'); // warm up (module loading, first store)
  const flushed = await paper('flushed');
  const committed = await paper('committed');
  const row = (name, r) => {
    const L = r.result.latency;
    return `${name.padEnd(10)} ${fmt(r.result.bars / r.s, 0).padStart(8)} bars/s  ${fmt(r.result.fills / r.s, 0).padStart(6)} fills/s   commit p50 ${fmt(L.commit.p50Ms, 2)} ms  p99 ${fmt(L.commit.p99Ms, 2)} ms   whole bar p50 ${fmt(L.bar.p50Ms, 2)} ms  p99 ${fmt(L.bar.p99Ms, 2)} ms  max ${fmt(L.bar.maxMs, 1)} ms`;
  };
  console.log(`${flushed.result.bars} bars, ${flushed.result.fills} fills per run (wall time includes opening the store and reading the series)`);
  console.log(row('flushed', flushed));
  console.log(row('committed', committed));
  const f = fsyncAnchor(BARS);
  console.log(`\nanchor: file append + fdatasync per bar: ${fmt(f.perS, 0)} appends/s, p50 ${fmt(f.p50, 2)} ms, p99 ${fmt(f.p99, 2)} ms`);
  const q = sqliteAnchor(BARS);
  if (q) console.log(`anchor: SQLite (WAL, synchronous=FULL), one transaction per bar: ${fmt(q.perS, 0)} commits/s, p50 ${fmt(q.p50, 2)} ms, p99 ${fmt(q.p99, 2)} ms`);
  else console.log('anchor: SQLite via /usr/bin/python3 not available');
  const durable = flushed.result.bars / flushed.s;
  console.log(`\nflushed paper bars/s ÷ fsync'd appends/s: ${fmt(durable / f.perS, 2)}${q ? `; ÷ SQLite commits/s: ${fmt(durable / q.perS, 2)}` : ''}`);
  console.log(`targets: ≥ 100 flushed bars/s (${durable >= 100 ? 'met' : 'missed'}), p99 < 50 ms per bar (${flushed.result.latency.bar.p99Ms < 50 ? 'met' : 'missed'})`);
  console.log(`RESULT durable_bars_per_s=${fmt(durable, 0)} trades_per_s=${fmt(flushed.result.fills / flushed.s, 1)} p99_commit_ms=${fmt(flushed.result.latency.bar.p99Ms, 2)}`);
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
