import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { snapshotCorrupt } from '../errors.js';
import { RunStore, STORE_FILE } from '../store/lmdb-store.js';
import { writeFileAtomic, writeFileAtomicSync } from '../util/fs.js';

/**
 * Consistent snapshots of a run directory in a shared directory, and their restore.
 *
 * Layout of a shard's shared directory:
 * ```
 * CURRENT                      the newest snapshot's number (informational: the numbered
 *                              directories decide, since a writer may die before updating it)
 * snapshots/00000012/          one snapshot: store.mdb (LMDB's copy of the live environment),
 *   manifest.json              the run directory's other files, and their sizes and checksums
 * lease-000003.json            the lease (see lease.ts)
 * ```
 * A snapshot is built in `snapshots/.tmp-*`, every file fsynced, the manifest written last,
 * then renamed into place and named in CURRENT (written atomically). A restore verifies every
 * checksum first and never uses a snapshot that fails; it falls back to the previous one.
 */
export interface SnapshotManifest {
  format: 1;
  seq: number;
  /** Lease generation of the runner that took it. */
  gen: number;
  createdAt: number;
  files: { path: string; size: number; sha256: string; mtimeMs: number }[];
  /** Checkpoint files the store referenced but that were pruned before they could be copied. */
  missing: string[];
}

export const MANIFEST = 'manifest.json';
export const CURRENT = 'CURRENT';
/** Written in a local run directory: the lease generation it was started under. */
export const BASE_MARKER = 'snapshot-base.json';
const SNAPSHOTS = 'snapshots';
// events.jsonl is a log that grows all run long; the store holds the state (and its own feed).
const SKIP = new Set([STORE_FILE, `${STORE_FILE}-lock`, BASE_MARKER, 'events.jsonl']);

export function isSnapshotDir(dir: string): boolean {
  return existsSync(join(dir, CURRENT)) || existsSync(join(dir, SNAPSHOTS));
}

function snapDir(dir: string, seq: number): string {
  return join(dir, SNAPSHOTS, String(seq).padStart(8, '0'));
}

export function readManifest(dir: string, seq: number): SnapshotManifest | undefined {
  try {
    return JSON.parse(readFileSync(join(snapDir(dir, seq), MANIFEST), 'utf8')) as SnapshotManifest;
  } catch {
    return undefined;
  }
}

/**
 * Snapshot numbers present, newest first. A numbered directory is complete (it is renamed into
 * place only after its manifest), even when its writer died before updating CURRENT.
 */
export function snapshotSeqs(dir: string): number[] {
  let names: string[] = [];
  try {
    names = readdirSync(join(dir, SNAPSHOTS));
  } catch {
    return [];
  }
  return names.filter((n) => /^\d{8}$/.test(n)).map(Number).sort((a, b) => b - a);
}

export function currentSeq(dir: string): number | undefined {
  try {
    const n = Number(readFileSync(join(dir, CURRENT), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The newest snapshot's manifest, unverified (for deciding whether to restore). */
export function latestManifest(dir: string): SnapshotManifest | undefined {
  for (const seq of snapshotSeqs(dir)) {
    const m = readManifest(dir, seq);
    if (m) return m;
  }
  return undefined;
}

async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function fsyncPath(path: string): Promise<void> {
  try {
    const fh = await open(path, 'r');
    await fh.sync().catch(() => {});
    await fh.close();
  } catch {
    // some filesystems cannot fsync directories
  }
}

async function walk(root: string, dir = root, out: string[] = []): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(root, p, out);
    else if (e.isFile() && !e.name.endsWith('.tmp')) out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

export interface SnapshotResult {
  seq: number;
  ms: number;
  files: number;
  bytes: number;
  /** Files copied (the rest were linked from the previous snapshot, unchanged). */
  copied: number;
  missing: string[];
}

/**
 * Takes one snapshot of `runDir` (whose store is open as `store`) into the shared `dir`.
 * `beforePublish` runs just before the snapshot is made visible (the lease check).
 */
export async function takeSnapshot(store: RunStore, runDir: string, dir: string, gen: number, beforePublish: () => void = () => {}): Promise<SnapshotResult> {
  const started = Date.now();
  await mkdir(join(dir, SNAPSHOTS), { recursive: true });
  const prevSeq = snapshotSeqs(dir)[0];
  const prev = prevSeq !== undefined ? readManifest(dir, prevSeq) : undefined;
  const prevFiles = new Map((prev?.files ?? []).map((f) => [f.path, f]));
  const seq = Math.max(prev?.seq ?? 0, prevSeq ?? 0, currentSeq(dir) ?? 0) + 1;
  const tmp = join(dir, SNAPSHOTS, `.tmp-${seq}-${randomBytes(4).toString('hex')}`);
  await rm(tmp, { recursive: true, force: true });
  try {
    // LMDB's copy of the live environment, in one read transaction: consistent at one instant.
    await store.backup(tmp);
    await fsyncPath(join(tmp, STORE_FILE));
    const files: SnapshotManifest['files'] = [{ path: STORE_FILE, size: (await stat(join(tmp, STORE_FILE))).size, sha256: await hashFile(join(tmp, STORE_FILE)), mtimeMs: 0 }];
    let copied = 0;
    let bytes = files[0]!.size;
    // Files written before the store copy are all there now (a file is written before the record
    // that names it commits); ones written since are harmless extras.
    for (const rel of await walk(runDir)) {
      if (SKIP.has(rel)) continue;
      const src = join(runDir, rel);
      const dst = join(tmp, rel);
      let st;
      try {
        st = await lstat(src);
      } catch {
        continue; // removed meanwhile (a pruned checkpoint)
      }
      await mkdir(dirname(dst), { recursive: true });
      const old = prevFiles.get(rel);
      if (old && prev && old.size === st.size && old.mtimeMs === st.mtimeMs) {
        // Unchanged since the previous snapshot: link its copy, once it proves intact (reading
        // the shared copy is cheaper than writing it again, and damage must not spread).
        const prior = join(snapDir(dir, prev.seq), rel);
        try {
          if ((await hashFile(prior)) === old.sha256) {
            await link(prior, dst);
            files.push(old);
            bytes += st.size;
            continue;
          }
        } catch {
          // fall through to a copy
        }
      }
      try {
        await copyFile(src, dst);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      await fsyncPath(dst);
      files.push({ path: rel, size: st.size, sha256: await hashFile(dst), mtimeMs: st.mtimeMs });
      copied++;
      bytes += st.size;
    }
    const have = new Set(files.map((f) => f.path));
    const missing = (await referencedFiles(tmp)).filter((f) => !have.has(f));
    const manifest: SnapshotManifest = { format: 1, seq, gen, createdAt: Date.now(), files, missing };
    await writeFileAtomic(join(tmp, MANIFEST), JSON.stringify(manifest));
    beforePublish();
    await rename(tmp, snapDir(dir, seq));
    await fsyncPath(join(dir, SNAPSHOTS));
    writeFileAtomicSync(join(dir, CURRENT), `${seq}\n`);
    await pruneSnapshots(dir, seq);
    return { seq, ms: Date.now() - started, files: files.length, bytes, copied, missing };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/** Checkpoint payload files the copied store refers to (relative to the run directory). */
async function referencedFiles(storeDir: string): Promise<string[]> {
  const s = RunStore.open(storeDir, { readOnly: true });
  const out: string[] = [];
  try {
    for (const value of s.allCheckpoints()) if (value.file) out.push(value.file.split(sep).join('/'));
  } finally {
    await s.close();
    await rm(join(storeDir, `${STORE_FILE}-lock`), { force: true });
  }
  return out;
}

/** Keeps the newest two snapshots (the current one and a fallback) and no leftovers. */
async function pruneSnapshots(dir: string, keepFrom: number): Promise<void> {
  for (const name of readdirSync(join(dir, SNAPSHOTS))) {
    const isTmp = name.startsWith('.tmp-');
    const n = Number(name);
    if (isTmp || (Number.isInteger(n) && n < keepFrom - 1)) await rm(join(dir, SNAPSHOTS, name), { recursive: true, force: true });
  }
}

/** Checks every file of a snapshot against its manifest; the reason it is unusable, if it is. */
export async function verifySnapshot(dir: string, seq: number): Promise<{ ok: true; manifest: SnapshotManifest } | { ok: false; reason: string }> {
  const m = readManifest(dir, seq);
  if (!m) return { ok: false, reason: `snapshot ${seq} has no readable manifest` };
  const base = snapDir(dir, seq);
  for (const f of m.files) {
    const p = join(base, f.path);
    let st;
    try {
      st = await stat(p);
    } catch {
      return { ok: false, reason: `snapshot ${seq}: ${f.path} is missing` };
    }
    if (st.size !== f.size) return { ok: false, reason: `snapshot ${seq}: ${f.path} has ${st.size} bytes, the manifest says ${f.size}` };
    if ((await hashFile(p)) !== f.sha256) return { ok: false, reason: `snapshot ${seq}: ${f.path} fails its checksum` };
  }
  return { ok: true, manifest: m };
}

/**
 * Restores the newest snapshot that verifies into `runDir` (replacing what is there), via a
 * sibling temporary directory and a rename. Undefined when `dir` holds no snapshot; throws
 * RUNNER_SNAPSHOT_CORRUPT when it holds some but none verifies.
 */
export async function restoreSnapshot(dir: string, runDir: string): Promise<{ manifest: SnapshotManifest; skipped: string[]; ms: number } | undefined> {
  const started = Date.now();
  const seqs = snapshotSeqs(dir);
  if (seqs.length === 0) return undefined;
  const skipped: string[] = [];
  for (const seq of seqs) {
    const v = await verifySnapshot(dir, seq);
    if (!v.ok) {
      skipped.push(v.reason);
      continue;
    }
    const tmp = `${runDir}.restore-${randomBytes(4).toString('hex')}`;
    await rm(tmp, { recursive: true, force: true });
    try {
      for (const f of v.manifest.files) {
        const dst = join(tmp, f.path);
        await mkdir(dirname(dst), { recursive: true });
        await copyFile(join(snapDir(dir, seq), f.path), dst);
        await fsyncPath(dst);
      }
      await mkdir(tmp, { recursive: true });
      await fsyncPath(tmp);
      if (existsSync(runDir)) {
        const aside = `${runDir}.replaced-${randomBytes(4).toString('hex')}`;
        await rename(runDir, aside);
        await rm(aside, { recursive: true, force: true });
      }
      await mkdir(dirname(runDir), { recursive: true });
      await rename(tmp, runDir);
      await fsyncPath(dirname(runDir));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true }).catch(() => {});
      throw err;
    }
    return { manifest: v.manifest, skipped, ms: Date.now() - started };
  }
  throw snapshotCorrupt(dir, skipped.join('; '));
}
