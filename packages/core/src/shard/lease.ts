import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { shardLease } from '../errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { HOST, pidAlive, procStartTime } from '../util/proc.js';

/**
 * The lease on one shard, kept in the shared directory next to its snapshots, so that a shard
 * never has two writers. Leases are numbered: `lease-000007.json` is generation 7. Taking over
 * creates the next generation with O_EXCL, which exactly one contender wins; a holder that finds
 * a newer generation has been fenced off and stops writing.
 */
export interface LeaseRecord {
  gen: number;
  host: string;
  pid: number;
  procStart?: string;
  token: string;
  acquiredAt: number;
  renewedAt: number;
  ttlMs: number;
  released?: boolean;
}

const LEASE_RE = /^lease-(\d{6,})\.json$/;

function leaseFile(dir: string, gen: number): string {
  return join(dir, `lease-${String(gen).padStart(6, '0')}.json`);
}

export function latestLeaseGen(dir: string): number {
  let max = 0;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const n of names) {
    const m = LEASE_RE.exec(n);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

export function readLease(dir: string, gen: number): LeaseRecord | undefined {
  const path = leaseFile(dir, gen);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LeaseRecord;
  } catch {
    // Just created and not written yet: live, as of the file's time.
    try {
      const st = statSync(path);
      return { gen, host: '?', pid: 0, token: '', acquiredAt: st.mtimeMs, renewedAt: st.mtimeMs, ttlMs: 30_000 };
    } catch {
      return undefined;
    }
  }
}

/** Is this lease free to take: released, expired, or held by a process on this host that is gone? */
export function leaseFree(rec: LeaseRecord, now = Date.now()): boolean {
  if (rec.released) return true;
  if (rec.host === HOST && rec.pid > 0) {
    // A restarted container has the same host name and often the same pid (1): the start time tells.
    if (rec.pid === process.pid) return rec.procStart !== procStartTime(process.pid);
    return !pidAlive(rec.pid, rec.procStart);
  }
  return now - rec.renewedAt > rec.ttlMs;
}

export class ShardLease {
  private constructor(
    readonly dir: string,
    readonly record: LeaseRecord,
  ) {}

  get gen(): number {
    return this.record.gen;
  }

  /**
   * Takes the lease, waiting up to `waitMs` for a live holder's lease to expire. Throws
   * RUNNER_SHARD_LEASE when it stays held.
   */
  static async acquire(dir: string, opts: { ttlMs: number; waitMs: number; onWait?: (holder: LeaseRecord) => void }): Promise<ShardLease> {
    mkdirSync(dir, { recursive: true });
    const deadline = Date.now() + opts.waitMs;
    let told = false;
    for (;;) {
      const g = latestLeaseGen(dir);
      const cur = g > 0 ? readLease(dir, g) : undefined;
      if (cur && !leaseFree(cur)) {
        if (Date.now() >= deadline) {
          throw shardLease(
            `the shard in ${dir} is held by pid ${cur.pid} on ${cur.host} (lease generation ${cur.gen}, renewed ${Math.round((Date.now() - cur.renewedAt) / 1000)}s ago)`,
            `Only one runner may work on a shard. Stop the other one, or wait until its lease expires (${Math.round(cur.ttlMs / 1000)}s after its last renewal) and start again.`,
          );
        }
        if (!told) opts.onWait?.(cur);
        told = true;
        await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(50, cur.renewedAt + cur.ttlMs - Date.now()))));
        continue;
      }
      const now = Date.now();
      const rec: LeaseRecord = { gen: g + 1, host: HOST, pid: process.pid, procStart: procStartTime(process.pid), token: randomBytes(6).toString('hex'), acquiredAt: now, renewedAt: now, ttlMs: opts.ttlMs };
      let fd: number;
      try {
        fd = openSync(leaseFile(dir, rec.gen), 'wx');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue; // another contender won this generation
        throw err;
      }
      try {
        const bytes = Buffer.from(JSON.stringify(rec));
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      // Keep the previous generation for the record; older ones go.
      for (let old = rec.gen - 2; old >= 1; old--) {
        const f = leaseFile(dir, old);
        try {
          rmSync(f);
        } catch {
          break;
        }
      }
      return new ShardLease(dir, rec);
    }
  }

  /** True while no newer generation exists. */
  held(): boolean {
    return latestLeaseGen(this.dir) === this.record.gen;
  }

  /** Renews the lease; throws RUNNER_SHARD_LEASE when a newer runner took it over. */
  renew(): void {
    this.assertHeld();
    this.record.renewedAt = Date.now();
    writeFileAtomicSync(leaseFile(this.dir, this.record.gen), JSON.stringify(this.record));
  }

  assertHeld(): void {
    if (!this.held()) {
      throw shardLease(
        `lost the lease on the shard in ${this.dir}: another runner took it over (generation ${latestLeaseGen(this.dir)} > ${this.record.gen})`,
        'This runner stops without writing another snapshot. Make sure only one process runs each shard index.',
      );
    }
  }

  /** Lets the next runner take over at once. */
  release(): void {
    if (!this.held()) return;
    this.record.released = true;
    this.record.renewedAt = Date.now();
    writeFileAtomicSync(leaseFile(this.dir, this.record.gen), JSON.stringify(this.record));
  }
}
