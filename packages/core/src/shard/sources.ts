import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { ResolvedJobSpec } from '../config/types.js';
import { usage } from '../errors.js';
import { STORE_FILE } from '../store/lmdb-store.js';
import { parseShardDirName, SHARD_INFO_FILE, type ShardInfo } from './assign.js';
import { isSnapshotDir, restoreSnapshot } from './snapshot.js';

/** A shard's results to read: its local run directory, or a verified copy of its newest snapshot. */
export interface ShardSource {
  /** What the user named (or what was found). */
  path: string;
  runDir: string;
  info: ShardInfo;
  /** Set when read from a snapshot in the shared directory. */
  snapshot?: { seq: number; createdAt: number };
}

export interface ShardSources {
  sources: ShardSource[];
  /** Removes the temporary copies of snapshots. */
  close(): Promise<void>;
}

/** Expands `*` and `?` in any path segment (the shell usually does this already). */
export function expandGlob(pattern: string): string[] {
  if (!/[*?]/.test(pattern)) return existsSync(pattern) ? [pattern] : [];
  const abs = resolve(pattern);
  const parts = abs.split(sep);
  let paths = [parts[0] === '' ? sep : parts[0]!];
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    if (!/[*?]/.test(part)) {
      paths = paths.map((p) => join(p, part)).filter((p) => existsSync(p));
      continue;
    }
    const re = new RegExp('^' + part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
    const next: string[] = [];
    for (const p of paths) {
      let names: string[] = [];
      try {
        names = readdirSync(p);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (re.test(n)) next.push(join(p, n));
    }
    paths = next;
  }
  return paths;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function readInfo(runDir: string): ShardInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, SHARD_INFO_FILE), 'utf8')) as ShardInfo;
  } catch {
    return undefined;
  }
}

/**
 * Finds the shards of a run: each path is a shard's run directory, a shard's snapshot directory,
 * or a directory holding `shard-i-of-N` directories (`runs/<name>`, `<snapshot-dir>/<name>`).
 * Without paths: `runs/<name>/shard-*` and, given a snapshot root, `<root>/<name>/shard-*`.
 * When a shard is found twice, the first wins (local directories come first).
 */
export async function openShardSources(spec: ResolvedJobSpec, paths: readonly string[] | undefined, snapshotRoot?: string): Promise<ShardSources> {
  const named = paths && paths.length > 0 ? paths : [spec.runDir, ...(snapshotRoot ? [join(snapshotRoot, spec.name)] : [])];
  const candidates: string[] = [];
  for (const p of named) {
    const hits = expandGlob(p);
    if (hits.length === 0 && paths && paths.length > 0) throw usage(`--shards ${p}: no such file or directory`, 'Name shard run directories (runs/<name>/shard-0-of-4), snapshot directories, or a directory holding them.');
    for (const h of hits) {
      if (!isDir(h)) continue;
      if (existsSync(join(h, SHARD_INFO_FILE)) || (isSnapshotDir(h) && !existsSync(join(h, STORE_FILE)))) candidates.push(h);
      else for (const n of readdirSync(h).sort()) if (parseShardDirName(n) && isDir(join(h, n))) candidates.push(join(h, n));
    }
  }
  const temps: string[] = [];
  const sources: ShardSource[] = [];
  const seen = new Set<string>();
  try {
    for (const c of candidates) {
      let runDir = c;
      let snapshot: ShardSource['snapshot'];
      if (!existsSync(join(c, STORE_FILE)) && isSnapshotDir(c)) {
        const tmp = mkdtempSync(join(tmpdir(), 'runner-shard-'));
        temps.push(tmp);
        runDir = join(tmp, basename(c));
        const r = await restoreSnapshot(c, runDir);
        if (!r) continue;
        snapshot = { seq: r.manifest.seq, createdAt: r.manifest.createdAt };
      }
      const info = readInfo(runDir);
      if (!info || info.name !== spec.name) continue;
      const k = `${info.index}/${info.count}`;
      if (seen.has(k)) continue;
      seen.add(k);
      sources.push({ path: c, runDir, info, snapshot });
    }
  } catch (err) {
    for (const t of temps) await rm(t, { recursive: true, force: true });
    throw err;
  }
  sources.sort((a, b) => a.info.count - b.info.count || a.info.index - b.info.index);
  return {
    sources,
    close: async () => {
      for (const t of temps) await rm(t, { recursive: true, force: true });
    },
  };
}

/** The shard count and key the sources agree on; throws when they were started differently. */
export function agreedLayout(sources: ShardSource[]): { count: number; key: string[] } | undefined {
  if (sources.length === 0) return undefined;
  const first = sources[0]!.info;
  for (const s of sources) {
    if (s.info.count !== first.count || s.info.key.join(',') !== first.key.join(',')) {
      throw usage(
        `shards of different layouts: ${dirname(sources[0]!.path)} has ${first.count} shards by ${first.key.join(',')}, ${s.path} is ${s.info.index}/${s.info.count} by ${s.info.key.join(',')}`,
        'Name the shards of one layout with --shards (e.g. runs/<name>/shard-*-of-4).',
      );
    }
  }
  return { count: first.count, key: [...first.key] };
}
