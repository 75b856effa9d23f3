import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RunStore } from '../src/store/lmdb-store.js';
import { ShardLease } from '../src/shard/lease.js';
import { currentSeq, restoreSnapshot, snapshotSeqs, takeSnapshot } from '../src/shard/snapshot.js';

const LEASE_JS = new URL('../dist/shard/lease.js', import.meta.url).pathname;

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A process on this host that takes the lease and prints "held", then waits to be killed. */
function holder(dir: string) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const { ShardLease } = await import(${JSON.stringify(LEASE_JS)}); await ShardLease.acquire(${JSON.stringify(dir)}, { ttlMs: 60000, waitMs: 0 }); console.log('held'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const held = new Promise<void>((res) => child.stdout!.on('data', (d) => String(d).includes('held') && res()));
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  return { child, held, exited };
}

describe('shard lease', () => {
  test('one holder at a time: a live holder keeps it, a dead one on this host loses it at once', async () => {
    const dir = tmp('runner-lease-');
    const h = holder(dir);
    await h.held;
    await expect(ShardLease.acquire(dir, { ttlMs: 60_000, waitMs: 200 })).rejects.toMatchObject({ code: 'RUNNER_SHARD_LEASE' });
    h.child.kill('SIGKILL');
    await h.exited;
    const mine = await ShardLease.acquire(dir, { ttlMs: 60_000, waitMs: 0 });
    expect(mine.gen).toBe(2);
    expect(mine.held()).toBe(true);
    mine.release();
    const next = await ShardLease.acquire(dir, { ttlMs: 60_000, waitMs: 0 });
    expect(next.gen).toBe(3);
  });

  test('a holder on another host keeps it until its lease expires', async () => {
    const dir = tmp('runner-lease-');
    const renewedAt = Date.now();
    writeFileSync(join(dir, 'lease-000004.json'), JSON.stringify({ gen: 4, host: 'node-elsewhere', pid: 1, token: 'x', acquiredAt: renewedAt, renewedAt, ttlMs: 400 }));
    let waited = false;
    const l = await ShardLease.acquire(dir, { ttlMs: 60_000, waitMs: 5000, onWait: () => (waited = true) });
    expect(waited).toBe(true);
    expect(Date.now() - renewedAt).toBeGreaterThanOrEqual(400);
    expect(l.gen).toBe(5);
  });

  test('a holder that was taken over is fenced: renewing fails and it must stop writing', async () => {
    const dir = tmp('runner-lease-');
    const l = await ShardLease.acquire(dir, { ttlMs: 60_000, waitMs: 0 });
    l.renew();
    writeFileSync(join(dir, 'lease-000002.json'), JSON.stringify({ gen: 2, host: 'node-b', pid: 7, token: 'y', acquiredAt: Date.now(), renewedAt: Date.now(), ttlMs: 60_000 }));
    expect(l.held()).toBe(false);
    expect(() => l.renew()).toThrow(expect.objectContaining({ code: 'RUNNER_SHARD_LEASE' }));
  });
});

async function makeRun(runDir: string): Promise<RunStore> {
  const s = RunStore.open(runDir);
  await s.initMeta('snap', '/x/job.yaml');
  mkdirSync(join(runDir, 'artifacts', 'work', 'a'), { recursive: true });
  writeFileSync(join(runDir, 'artifacts', 'work', 'a', 'model.bin'), Buffer.alloc(50_000, 7));
  writeFileSync(join(runDir, 'events.jsonl'), '{"a":1}\n');
  return s;
}

describe('snapshots', () => {
  test('snapshot and restore round-trip; unchanged files are linked, not copied again', async () => {
    const runDir = join(tmp('runner-snap-'), 'run');
    const shared = tmp('runner-shared-');
    const s = await makeRun(runDir);
    const a = await takeSnapshot(s, runDir, shared, 1);
    expect(a).toMatchObject({ seq: 1, copied: 1, missing: [] }); // model.bin; events.jsonl is a log, not state
    await s.setPlanDigest('after-first');
    writeFileSync(join(runDir, 'artifacts', 'work', 'a', 'second.bin'), 'x');
    const b = await takeSnapshot(s, runDir, shared, 1);
    expect(b).toMatchObject({ seq: 2, copied: 1, files: 3 }); // second.bin; model.bin linked
    expect(currentSeq(shared)).toBe(2);
    await s.close();

    const target = join(tmp('runner-restore-'), 'run');
    const r = await restoreSnapshot(shared, target);
    expect(r?.manifest.seq).toBe(2);
    expect(readFileSync(join(target, 'artifacts', 'work', 'a', 'model.bin'))).toEqual(Buffer.alloc(50_000, 7));
    expect(readFileSync(join(target, 'artifacts', 'work', 'a', 'second.bin'), 'utf8')).toBe('x');
    const restored = RunStore.open(target, { readOnly: true });
    expect(restored.getMeta()?.planDigest).toBe('after-first');
    await restored.close();
  });

  test('a torn or damaged snapshot is never restored: the previous one is, and with none left it refuses', async () => {
    const runDir = join(tmp('runner-snap-'), 'run');
    const shared = tmp('runner-shared-');
    const s = await makeRun(runDir);
    await takeSnapshot(s, runDir, shared, 1);
    await s.setPlanDigest('second');
    await takeSnapshot(s, runDir, shared, 1);
    // A snapshot that was being written when its node died: never visible.
    mkdirSync(join(shared, 'snapshots', '.tmp-3-dead'), { recursive: true });
    writeFileSync(join(shared, 'snapshots', '.tmp-3-dead', 'store.mdb'), 'half');
    // Damage the newest one.
    const model = join(shared, 'snapshots', '00000002', 'artifacts', 'work', 'a', 'model.bin');
    const bytes = readFileSync(model);
    // Linked from snapshot 1: write a copy instead of changing both.
    const { rmSync } = await import('node:fs');
    rmSync(model);
    bytes[100] = 8;
    writeFileSync(model, bytes);
    const target = join(tmp('runner-restore-'), 'run');
    const r = await restoreSnapshot(shared, target);
    expect(r?.manifest.seq).toBe(1);
    expect(r?.skipped.join()).toMatch(/snapshot 2: artifacts\/work\/a\/model.bin fails its checksum/);
    const restored = RunStore.open(target, { readOnly: true });
    expect(restored.getMeta()?.planDigest).toBeUndefined();
    await restored.close();

    writeFileSync(join(shared, 'snapshots', '00000001', 'store.mdb'), 'garbage');
    await expect(restoreSnapshot(shared, join(tmp('runner-restore-'), 'run'))).rejects.toMatchObject({ code: 'RUNNER_SNAPSHOT_CORRUPT' });

    // The next snapshot clears the leftovers and is good again.
    const c = await takeSnapshot(s, runDir, shared, 1);
    expect(c.seq).toBe(3);
    expect(readdirSync(join(shared, 'snapshots')).sort()).toEqual(['00000002', '00000003']);
    await s.close();
    expect((await restoreSnapshot(shared, join(tmp('runner-restore-'), 'run')))?.manifest.seq).toBe(3);
  });

  test('a writer killed between publishing a snapshot and updating CURRENT: the next one numbers past it, restore takes it', async () => {
    const runDir = join(tmp('runner-snap-'), 'run');
    const shared = tmp('runner-shared-');
    const s = await makeRun(runDir);
    await takeSnapshot(s, runDir, shared, 1);
    await s.setPlanDigest('second');
    await takeSnapshot(s, runDir, shared, 1);
    writeFileSync(join(shared, 'CURRENT'), '1\n'); // as if killed right after the rename
    expect((await restoreSnapshot(shared, join(tmp('runner-restore-'), 'run')))?.manifest.seq).toBe(2);
    expect((await takeSnapshot(s, runDir, shared, 2)).seq).toBe(3);
    await s.close();
  });

  test('a runner that lost its lease publishes nothing', async () => {
    const runDir = join(tmp('runner-snap-'), 'run');
    const shared = tmp('runner-shared-');
    const s = await makeRun(runDir);
    await expect(
      takeSnapshot(s, runDir, shared, 1, () => {
        throw Object.assign(new Error('lost'), { code: 'RUNNER_SHARD_LEASE' });
      }),
    ).rejects.toThrow('lost');
    await s.close();
    expect(snapshotSeqs(shared)).toEqual([]);
    expect(existsSync(join(shared, 'CURRENT'))).toBe(false);
    expect(readdirSync(join(shared, 'snapshots'))).toEqual([]);
  });
});
