/**
 * Where series live in the shared data directory, and the key that says whether a stored file
 * came from the same source. Two runs with the same source and symbol share one file.
 *
 *   <dataDir>/<source type>/<interval or "raw">-<key>/<SYMBOL>.arrow      the series
 *   <dataDir>/<source type>/<interval or "raw">-<key>/<SYMBOL>.meta.json  its manifest
 *   <dataDir>/<source type>/<interval or "raw">-<key>/source.json         the source options
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with sorted keys, so equal options hash equally whatever their order in the YAML. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(v as object)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

export function keyOf(params: unknown): string {
  return sha256Hex(canonicalJson(params)).slice(0, 12);
}

/** A file name for a symbol: safe characters kept; anything else replaced, plus a short hash so names stay unique. */
export function symbolFileName(symbol: string): string {
  const safe = symbol.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  if (safe === symbol && safe.length <= 120) return safe;
  return `${safe.slice(0, 100)}-${sha256Hex(symbol).slice(0, 8)}`;
}

export interface SeriesPaths {
  dir: string;
  file: string;
  manifest: string;
  sourceJson: string;
}

export function seriesPaths(dataDir: string, type: string, interval: string | undefined, key: string, symbol: string): SeriesPaths {
  const dir = join(dataDir, type, `${interval ?? 'raw'}-${key}`);
  const name = symbolFileName(symbol);
  return { dir, file: join(dir, `${name}.arrow`), manifest: join(dir, `${name}.meta.json`), sourceJson: join(dir, 'source.json') };
}

const SECRET_PARAM = /^(api[_-]?key|apikey|key|token|access[_-]?token|secret|signature|sig|password|passwd|auth|authorization|x-mbx-apikey)$/i;

/** A URL safe to print: user info and secret-looking query values become ***. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url.replace(/(api[_-]?key|token|secret|signature|password)=([^&\s]+)/gi, '$1=***');
  }
  if (u.username || u.password) {
    u.username = '***';
    u.password = '';
  }
  for (const k of [...u.searchParams.keys()]) if (SECRET_PARAM.test(k)) u.searchParams.set(k, '***');
  return u.toString().replace(/=\*\*\*/g, '=***').replace(/%2A%2A%2A/g, '***');
}
