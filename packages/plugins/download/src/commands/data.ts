/**
 * `runner data [spec]`: what the data directory holds (source, symbol, rows, range, size, age),
 * and with --verify whether every file still matches its manifest's checksum.
 */
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { format, loadJobSpec } from '@runner/core/cli';
import { readManifest, verifyStored, type Manifest } from '../series/store.js';

export interface DataArgs {
  spec?: string;
  dir?: string;
  verify?: boolean;
  json?: boolean;
  source?: string;
  symbol?: string;
}

export interface DataEntry extends Manifest {
  path: string;
  status?: 'ok' | 'damaged';
}

async function findManifests(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = (await readdir(dir, { recursive: true })).map(String);
  } catch {
    return out;
  }
  for (const e of entries) if (e.endsWith('.meta.json')) out.push(join(dir, e));
  return out.sort();
}

export async function listData(dir: string, opts: { verify?: boolean; source?: string; symbol?: string } = {}): Promise<DataEntry[]> {
  const rows: DataEntry[] = [];
  const like = opts.symbol ? new RegExp(`^${opts.symbol.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i') : undefined;
  for (const m of await findManifests(dir)) {
    const man = await readManifest(m);
    if (!man) continue;
    if (opts.source && man.source !== opts.source) continue;
    if (like && !like.test(man.symbol)) continue;
    const path = join(m, '..', man.file);
    const entry: DataEntry = { ...man, path };
    if (opts.verify) entry.status = (await verifyStored(path, man)) ? 'ok' : 'damaged';
    rows.push(entry);
  }
  return rows;
}

export async function dataHandler(args: DataArgs): Promise<void> {
  const dir = args.spec ? (await loadJobSpec(args.spec)).dataDir : resolve(args.dir ?? 'data');
  const rows = await listData(dir, args);
  if (args.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  } else if (rows.length === 0) {
    process.stdout.write(`no series in ${dir}${args.source || args.symbol ? ' match' : ''}\n`);
  } else {
    const header = ['source', 'symbol', 'rows', 'start', 'end', 'gaps', 'size', 'retrieved', ...(args.verify ? ['check'] : []), 'file'];
    const body = rows.map((r) => [
      r.source + (r.interval ? ` ${r.interval}` : ''),
      r.symbol,
      String(r.rows),
      r.start.slice(0, 16).replace('T', ' '),
      r.end.slice(0, 16).replace('T', ' '),
      String(r.gaps),
      format.formatBytes(r.size),
      format.formatAge(Date.parse(r.retrievedAt)),
      ...(args.verify ? [r.status === 'ok' ? 'ok' : 'DAMAGED'] : []),
      relative(process.cwd(), r.path),
    ]);
    process.stdout.write(format.table(body, header) + '\n');
    const bytes = rows.reduce((a, r) => a + r.size, 0);
    process.stdout.write(`${rows.length} series, ${format.formatBytes(bytes)} in ${dir}\n`);
  }
  const damaged = rows.filter((r) => r.status === 'damaged');
  if (damaged.length > 0) {
    process.stderr.write(
      `${damaged.length} file${damaged.length === 1 ? '' : 's'} do not match their manifests: ${damaged.map((d) => d.symbol).join(', ')}.\n` +
        'The next run of the download stage fetches them again; or delete them and their .meta.json.\n',
    );
    process.exitCode = 1;
  }
}
