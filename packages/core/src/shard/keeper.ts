import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRunnerError, serializeError, type SerializedError } from '../errors.js';
import type { Runner } from '../run/runner.js';
import { RunStore, STORE_FILE } from '../store/lmdb-store.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { ShardLease } from './lease.js';
import { BASE_MARKER, latestManifest, restoreSnapshot, takeSnapshot, type SnapshotResult } from './snapshot.js';

export interface KeeperOptions {
  /** The shard's directory on the shared volume. */
  dir: string;
  /** The shard's local run directory. */
  runDir: string;
  /** A snapshot at most this long after a task completes or checkpoints. */
  everyMs: number;
  ttlMs: number;
  heartbeatMs: number;
  /** How long to wait for a live holder's lease to expire. @default 2 × ttlMs */
  waitMs?: number;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/**
 * Keeps one shard's progress safe from the loss of its node: takes the shard's lease in the shared
 * directory, restores the newest verified snapshot when the local run directory is missing or
 * older, snapshots while the runner works (after completions and checkpoints, at most `everyMs`
 * apart) and once more at the end, and renews the lease; losing it stops the runner.
 */
export class ShardKeeper {
  private lease!: ShardLease;
  private store?: RunStore;
  private runner?: Runner;
  private timer?: NodeJS.Timeout;
  private renewTimer?: NodeJS.Timeout;
  private dirty = false;
  private snapping?: Promise<void>;
  private lastAt = 0;
  private closed = false;
  /** Set when the lease was lost or a snapshot could not be written. */
  fatal?: SerializedError;
  readonly taken: SnapshotResult[] = [];

  private constructor(private readonly opts: KeeperOptions) {}

  /** Takes the lease and restores when needed; returns notes for the run's start line. */
  static async open(opts: KeeperOptions): Promise<{ keeper: ShardKeeper; notes: string[] }> {
    const k = new ShardKeeper(opts);
    const notes: string[] = [];
    k.lease = await ShardLease.acquire(opts.dir, {
      ttlMs: opts.ttlMs,
      waitMs: opts.waitMs ?? opts.ttlMs * 2,
      onWait: (h) => opts.log('info', `waiting for the lease of pid ${h.pid} on ${h.host} to expire (another runner held this shard)`),
    });
    const snap = latestManifest(opts.dir);
    const local = readBase(opts.runDir);
    const hasLocal = existsSync(join(opts.runDir, STORE_FILE));
    if (snap && (!hasLocal || !local || local.gen < snap.gen)) {
      const r = await restoreSnapshot(opts.dir, opts.runDir);
      if (r) {
        notes.push(
          `restored snapshot ${r.manifest.seq} (taken ${new Date(r.manifest.createdAt).toISOString()}) from ${opts.dir} in ${r.ms}ms: the local store was ${hasLocal ? 'older' : 'missing'}`,
        );
        for (const s of r.skipped) notes.push(`skipped an unusable snapshot: ${s}`);
        // Whoever wrote it is gone (we hold the lease): its tasks go back to pending at once.
        const s = RunStore.open(opts.runDir);
        try {
          for (const o of s.listOwners()) await s.removeOwner(o.id);
        } finally {
          await s.close();
        }
      }
    }
    writeFileAtomicSync(join(opts.runDir, BASE_MARKER), JSON.stringify({ gen: k.lease.gen, at: Date.now() }));
    // Opened now, before the runner: opening databases takes LMDB's write lock synchronously, which
    // would deadlock against one of the runner's transactions waiting for this thread.
    k.store = RunStore.open(opts.runDir);
    k.renewTimer = setInterval(() => k.renew(), opts.heartbeatMs);
    k.renewTimer.unref();
    return { keeper: k, notes };
  }

  /** Snapshots follow the runner's completions and checkpoints. */
  attach(runner: Runner): void {
    this.runner = runner;
    const mark = () => {
      this.dirty = true;
      this.schedule();
    };
    runner.events.on('task:end', mark);
    runner.events.on('task:checkpoint', mark);
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = Math.max(0, this.lastAt + this.opts.everyMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.snapshot();
    }, wait);
  }

  private renew(): void {
    if (this.closed || this.fatal) return;
    try {
      this.lease.renew();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.fatal) return;
    this.fatal = serializeError(err);
    this.opts.log('error', `${this.fatal.message}. Stopping.`);
    this.runner?.interrupt(isRunnerError(err) ? err.code : 'snapshot error');
  }

  /** One snapshot now (waits for one in progress). */
  async snapshot(): Promise<SnapshotResult | undefined> {
    if (this.fatal) return undefined;
    while (this.snapping) await this.snapping;
    let result: SnapshotResult | undefined;
    this.snapping = (async () => {
      this.dirty = false;
      this.lastAt = Date.now();
      try {
        this.lease.assertHeld();
        result = await takeSnapshot(this.store!, this.opts.runDir, this.opts.dir, this.lease.gen, () => this.lease.assertHeld());
        this.taken.push(result);
        if (result.missing.length > 0) this.dirty = true; // a checkpoint was pruned mid-copy: take another soon
      } catch (err) {
        this.fail(err);
      }
    })();
    try {
      await this.snapping;
    } finally {
      this.snapping = undefined;
    }
    if (this.dirty && !this.closed) this.schedule();
    return result;
  }

  /** A last snapshot, then the lease is released so the next runner may start at once. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    while (this.snapping) await this.snapping;
    if (!this.fatal) {
      this.closed = false;
      await this.snapshot();
      this.closed = true;
    }
    await this.store?.close();
    if (!this.fatal) this.lease.release();
  }
}

function readBase(runDir: string): { gen: number } | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, BASE_MARKER), 'utf8')) as { gen: number };
  } catch {
    return undefined;
  }
}
