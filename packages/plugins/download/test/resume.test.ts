/**
 * Interrupt and resume, in-process with the core's test kit (a simulated kill -9 or a cancel at
 * a progress step, a real LMDB store): the resumed download equals an uninterrupted one, byte
 * for byte, and does not start over.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testResume } from '@runner/core/testing';
import plugin, { type DownloadOptions, type SeriesResult } from '../src/index.js';
import { FakeMarketServer, largeCsv } from '../src/testing/fake-server.js';
import { cleanup, contentSha, download, FAST, partialBytes, tempDir } from './helpers.js';

let server: FakeMarketServer;
const BIG = largeCsv(40_000); // ~2.3 MB

beforeAll(async () => {
  server = await FakeMarketServer.start();
  server.file('/big.csv', { body: BIG });
});
afterAll(async () => {
  await server.close();
  cleanup();
});

const identity = (r: SeriesResult) => ({ sha256: r.sha256, rows: r.rows, start: r.start, end: r.end, columns: r.columns, gaps: r.gaps });

describe('paginated', () => {
  const klines = () => ({ type: 'binance-klines', baseUrl: server.url, interval: '1h', start: '2024-03-01', end: '2024-03-21', limit: 24 });

  test('killed or cancelled at any page, the resumed download equals an uninterrupted one', async () => {
    server.pageDelayMs = 5;
    try {
      const report = await testResume(plugin, { ...FAST, concurrency: 2, source: klines() } as unknown as Partial<DownloadOptions>, {
        interruptAt: [2, 9, 17],
        normalize: (r) => identity(r as SeriesResult),
        runOptions: { task: { id: 'download/cycle=1', cell: { symbol: 'RESUMEUSDT' } } },
      });
      expect(report.points).toHaveLength(6);
      for (const p of report.points) {
        expect((p.result as SeriesResult).rows).toBe(20 * 24);
        // A cancel saves where it stopped; a kill loses at most the pages after the last commit.
        if (p.mode === 'cancel') expect(p.resumedFrom).toBeGreaterThanOrEqual(p.step - 1);
        if (p.step > 2) expect(p.resumedFrom ?? 0).toBeGreaterThan(0);
      }
    } finally {
      server.pageDelayMs = 0;
    }
  });

  test('a resumed download checks its last committed page; if the source changed meanwhile it starts over', async () => {
    const dir = tempDir();
    server.pageDelayMs = 5;
    const first = await download({ source: klines(), concurrency: 1 }, 'REVUSDT', { dir, crashAtStep: 10 });
    server.pageDelayMs = 0;
    expect(first.outcome).toBe('crashed');
    expect(first.checkpoints.length).toBeGreaterThan(0);
    // Nothing half-done at the final path: only the partial file under the run's artifacts.
    const dataFiles = existsSync(join(dir, 'data')) ? readdirSync(join(dir, 'data'), { recursive: true }).map(String) : [];
    expect(dataFiles.filter((f) => f.endsWith('.arrow'))).toEqual([]);
    expect(readdirSync(join(dir, 'artifacts'), { recursive: true }).map(String).some((f) => f.endsWith('.rows'))).toBe(true);

    server.revisions.set('REVUSDT', 1);
    const second = await download({ source: klines(), concurrency: 1 }, 'REVUSDT', { dir });
    expect(second.outcome).toBe('completed');
    expect(second.result).toMatchObject({ restarts: 1, changed: true, rows: 480 });
    expect(second.logs.some((l) => l.level === 'warn' && /REVUSDT: page \d+ \(from .*\) differs from the copy committed before the interruption: the source changed; downloading the series again from the start/.test(l.message))).toBe(true);
    const clean = await download({ source: klines() }, 'REVUSDT');
    expect(contentSha(second.result!)).toBe(contentSha(clean.result!));
    server.revisions.delete('REVUSDT');
  });
});

describe('single file', () => {
  const csv = () => ({ type: 'http-csv', url: `${server.url}/big.csv` });

  test('killed or cancelled mid-body, the resumed download equals an uninterrupted one', async () => {
    const report = await testResume(plugin, { ...FAST, source: csv() } as unknown as Partial<DownloadOptions>, {
      interruptAt: [300_000, 1_200_000],
      normalize: (r) => identity(r as SeriesResult),
      runOptions: { task: { id: 'download/cycle=1', cell: { symbol: 'BIG' } } },
    });
    for (const p of report.points) expect(p.resumedFrom ?? 0).toBeGreaterThan(0);
  });

  test('after a kill at 50% it fetches again at most 5% of the file, with Range + If-Range', async () => {
    // Paced, as a real network is: an unpaced local server pushes the whole file into socket
    // buffers at once.
    const big = largeCsv(80_000); // ~4.6 MB
    server.file('/half.csv', { body: big, bytesPerSecond: 16_000_000 });
    const dir = tempDir();
    const first = await download({ source: { type: 'http-csv', url: `${server.url}/half.csv` } }, 'BIG', { dir, crashAtStep: big.length / 2 });
    expect(first.outcome).toBe('crashed');
    const received = partialBytes(dir);
    const second = await download({ source: { type: 'http-csv', url: `${server.url}/half.csv` } }, 'BIG', { dir });
    expect(second.outcome).toBe('completed');
    const reqs = server.requests('/half.csv');
    expect(reqs).toHaveLength(2);
    expect(reqs[1]).toMatchObject({ status: 206, ifRange: expect.stringMatching(/^"/) });
    // What the killed run had received but the resumed one asked for again.
    const resumeAt = Number(/^bytes=(\d+)-$/.exec(reqs[1]!.range!)![1]);
    expect(received).toBeGreaterThanOrEqual(big.length / 2);
    expect(received - resumeAt).toBeGreaterThanOrEqual(0);
    expect(received - resumeAt).toBeLessThanOrEqual(big.length * 0.05);
    // On the wire: the resumed request carried exactly the rest of the file. (What the first one
    // had in flight when the run died is bounded by the kernel's socket buffers, several MB on
    // loopback, and by how far a busy client fell behind the server: not by the download.)
    expect(reqs[1]!.bytes).toBe(big.length - resumeAt);
    expect(server.bytesSent('/half.csv')).toBeGreaterThanOrEqual(big.length);
    expect(second.logs.some((l) => /resuming the download at byte \d+ of 4\d{6}/.test(l.message))).toBe(true);
  });
});

describe('stored files', () => {
  test('maxAge: a fresh file is reused, a stale one downloaded again', async () => {
    const dir = tempDir();
    const source = { type: 'stooq', baseUrl: server.url, start: '2024-01-01', end: '2024-02-01' };
    await download({ source }, 'MSFT', { dir, task: { id: 'a/cycle=1' } });
    const fresh = await download({ source, maxAge: '1d' }, 'MSFT', { dir, task: { id: 'b/cycle=1' } });
    expect(fresh.result).toMatchObject({ skipped: true, bytesFetched: 0 });
    await new Promise((r) => setTimeout(r, 20));
    const stale = await download({ source, maxAge: '10ms' }, 'MSFT', { dir, task: { id: 'c/cycle=1' } });
    expect(stale.result).toMatchObject({ skipped: false, changed: false });
    expect(stale.result!.bytesFetched).toBeGreaterThan(0);
    expect(stale.logs.some((l) => /downloading again: it is older than maxAge \(10ms\)/.test(l.message))).toBe(true);
  });

  test('a damaged file is downloaded again; a revision at the source is reported, or refused with onChange: fail', async () => {
    const dir = tempDir();
    const source = { type: 'stooq', baseUrl: server.url, start: '2024-01-01', end: '2024-02-01' };
    const a = await download({ source }, 'IBM', { dir, task: { id: 'a/cycle=1' } });
    writeFileSync(a.result!.file, 'garbage');
    const b = await download({ source }, 'IBM', { dir, task: { id: 'b/cycle=1' } });
    expect(b.result).toMatchObject({ skipped: false, sha256: a.result!.sha256 });
    expect(b.logs.some((l) => /does not match its checksum/.test(l.message))).toBe(true);

    server.revisions.set('ibm', 0.5);
    const failed = await download({ source, refresh: true, onChange: 'fail' }, 'IBM', { dir, task: { id: 'c/cycle=1' } });
    expect(failed.error).toMatchObject({ code: 'DOWNLOAD_CHANGED', retryable: false });
    expect(failed.error!.message).toMatch(/^IBM: the new download differs from .*IBM\.arrow: 24 rows differ from 2024-01-01T00:00:00.000Z on\. The source revised data/);
    const warned = await download({ source, refresh: true }, 'IBM', { dir, task: { id: 'd/cycle=1' } });
    expect(warned.result).toMatchObject({ changed: true, skipped: false });
    expect(warned.result!.sha256).not.toBe(a.result!.sha256);
    server.revisions.delete('ibm');
  });
});
