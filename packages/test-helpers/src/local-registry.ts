/**
 * An npm registry on 127.0.0.1 that serves what this machine already has: every package in the
 * workspace's pnpm store (`node_modules/.pnpm`), packed on request, plus given tarballs (the
 * workspace's own packages). `npm install --registry <url>` then runs as a user's would, without
 * the network.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

interface Version {
  manifest: Record<string, unknown>;
  /** A package directory to pack, or a ready tarball. */
  dir?: string;
  tarball?: Buffer;
}

export interface LocalRegistry {
  url: string;
  /** Names npm asked for that the registry did not have. */
  missing: Set<string>;
  close(): Promise<void>;
}

/** Indexes `<store>/<name>@<version>[_peers]/node_modules/<name>/package.json`. */
function indexStore(store: string, into: Map<string, Map<string, Version>>): void {
  for (const entry of readdirSync(store)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    // `<name>@<version>` plus `_<peers>` when peers are resolved; scopes are written `@scope+name`.
    const at = entry.indexOf('@', 1);
    if (at <= 0) continue;
    const name = entry.slice(0, at).replace('+', '/');
    const dir = join(store, entry, 'node_modules', name);
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    add(into, manifest, { dir });
  }
}

function add(into: Map<string, Map<string, Version>>, manifest: Record<string, unknown>, v: Omit<Version, 'manifest'>): void {
  const name = String(manifest.name);
  let versions = into.get(name);
  if (!versions) into.set(name, (versions = new Map()));
  versions.set(String(manifest.version), { manifest, ...v });
}

/** Reads `package/package.json` out of a gzipped tarball. */
export function tarballManifest(tgz: Buffer): Record<string, unknown> {
  const file = tarEntries(tgz).get('package/package.json');
  if (!file) throw new Error('tarball has no package/package.json');
  return JSON.parse(file.toString('utf8')) as Record<string, unknown>;
}

/** File name → contents of a gzipped tar (ustar, as npm and pnpm write it). */
export function tarEntries(tgz: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(tgz);
  const out = new Map<string, Buffer>();
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, n: number) => h.subarray(a, a + n).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const type = str(156, 1);
    const prefix = str(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    longName = undefined;
    const body = tar.subarray(off + 512, off + 512 + size);
    if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
    else if (type === '0' || type === '') out.set(name, Buffer.from(body));
    else if (type === 'x') {
      const m = /\d+ path=([^\n]+)\n/.exec(body.toString('utf8'));
      if (m) longName = m[1];
    }
    name = '';
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function walk(dir: string, base = dir, out: { path: string; stat: Stats }[] = []): { path: string; stat: Stats }[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') walk(p, base, out);
    } else if (e.isFile()) out.push({ path: relative(base, p), stat: statSync(p) });
  }
  return out;
}

function header(name: string, size: number, mode: number): Buffer {
  const h = Buffer.alloc(512);
  let n = name;
  let prefix = '';
  if (Buffer.byteLength(n) > 100) {
    const cut = n.lastIndexOf('/', 154);
    prefix = n.slice(0, cut);
    n = n.slice(cut + 1);
  }
  h.write(n, 0, 100);
  h.write(((mode & 0o777) | 0o644).toString(8).padStart(7, '0') + '\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** Packs a package directory the way npm does: every file under `package/`. */
export function packDir(dir: string): Buffer {
  const parts: Buffer[] = [];
  for (const f of walk(dir)) {
    const body = readFileSync(join(dir, f.path));
    parts.push(header(`package/${f.path.split('\\').join('/')}`, body.length, f.stat.mode), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts), { level: 1 });
}

/** Starts the registry. `tarballs` take precedence over the store for their name and version. */
export async function startLocalRegistry(store: string, tarballs: Buffer[]): Promise<LocalRegistry> {
  const pkgs = new Map<string, Map<string, Version>>();
  indexStore(store, pkgs);
  for (const tgz of tarballs) add(pkgs, tarballManifest(tgz), { tarball: tgz });
  const missing = new Set<string>();
  const packed = new Map<string, Buffer>();
  let url = '';

  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!.slice(1));
    const tgz = /^(.+)\/-\/(.+)\.tgz$/.exec(path);
    if (tgz) {
      const [, name, file] = tgz;
      const version = file!.slice(file!.lastIndexOf('-', file!.length) + 1);
      const v = findVersion(pkgs.get(name!), file!, version);
      if (!v) return void res.writeHead(404).end();
      const key = `${name}@${String(v.manifest.version)}`;
      let body = v.tarball ?? packed.get(key);
      if (!body) packed.set(key, (body = packDir(v.dir!)));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      return void res.end(body);
    }
    const versions = pkgs.get(path);
    if (!versions) {
      missing.add(path);
      return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    }
    const out: Record<string, unknown> = {};
    let latest = '';
    for (const [version, v] of versions) {
      const base = path.includes('/') ? path.split('/')[1] : path;
      const dist: Record<string, string> = { tarball: `${url}/${path}/-/${base}-${version}.tgz` };
      if (v.tarball) {
        dist.integrity = `sha512-${createHash('sha512').update(v.tarball).digest('base64')}`;
        dist.shasum = createHash('sha1').update(v.tarball).digest('hex');
      }
      out[version] = { ...v.manifest, dist };
      if (!latest || compare(version, latest) > 0) latest = version;
    }
    const body = JSON.stringify({ name: path, 'dist-tags': { latest }, versions: out });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, missing, close: () => new Promise((r) => server.close(() => r())) };
}

function findVersion(versions: Map<string, Version> | undefined, file: string, _guess: string): Version | undefined {
  if (!versions) return undefined;
  for (const [version, v] of versions) if (file.endsWith(`-${version}`)) return v;
  return undefined;
}

/** Orders plain semver versions; prereleases sort before their release. */
function compare(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d) return d;
  }
  return (pb.length > 3 ? 1 : 0) - (pa.length > 3 ? 1 : 0);
}
