import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { storeCorrupt } from '../errors.js';
import { TASK_STATES, type TaskRecord, type TaskStateEntry } from './types.js';

// LMDB's meta pages (pages 0 and 1), as written by the LMDB inside lmdb-js: a 24-byte page
// header, then MDB_meta: magic, version, address, mapsize, two MDB_db (the first one's pad holds
// the page size), last page number, transaction id.
const MAGIC = 0xbeefc0de;
const OFF_MAGIC = 24;
const OFF_PSIZE = 48;
const OFF_LAST_PG = 144;
const OFF_TXNID = 152;
const META_BYTES = 160;
const SLACK_PAGES = 64;

/** Files that show a run has history, so an empty store is damage, not a fresh start. */
const HISTORY = ['events.jsonl', 'artifacts'];

/**
 * Checks the store file against its own meta pages before LMDB maps it. A truncated file would
 * otherwise be mapped and read past its end: SIGBUS, with no message, on every command.
 */
export function checkStoreFile(dir: string, file: string): void {
  const path = join(dir, file);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return; // missing (a new run) or unreadable: open() reports that
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) {
      const history = HISTORY.filter((h) => existsSync(join(dir, h)) && !(h === 'artifacts' && readdirSync(join(dir, h)).length === 0));
      if (history.length > 0) {
        throw storeCorrupt(dir, `${file} is empty, but the run has history (${history.join(', ')}); starting over would silently redo everything`, 'Restore store.mdb from a backup (runs/<name>/backups/<time>/store.mdb), or, to really start from scratch, move the run directory aside (mv runs/<name> runs/<name>.old) and start again.');
      }
      return;
    }
    const first = Buffer.alloc(META_BYTES);
    if (readSync(fd, first, 0, META_BYTES, 0) < META_BYTES || first.readUInt32LE(OFF_MAGIC) !== MAGIC) {
      throw storeCorrupt(dir, `${file} does not start with an LMDB header (${size} bytes)`);
    }
    const psize = first.readUInt32LE(OFF_PSIZE);
    if (psize < 512 || psize > 65536 || (psize & (psize - 1)) !== 0) throw storeCorrupt(dir, `${file} has an impossible page size (${psize})`);
    const second = Buffer.alloc(META_BYTES);
    const metas = [first];
    if (readSync(fd, second, 0, META_BYTES, psize) === META_BYTES && second.readUInt32LE(OFF_MAGIC) === MAGIC) metas.push(second);
    // LMDB opens at the meta with the newest transaction; the file must hold every page it names.
    const newest = metas.reduce((a, b) => (b.readBigUInt64LE(OFF_TXNID) > a.readBigUInt64LE(OFF_TXNID) ? b : a));
    const needed = (Number(newest.readBigUInt64LE(OFF_LAST_PG)) + 1) * psize;
    // A healthy store may end a few pages short of its last allocated page (seen right after a
    // large transaction); a truncated one lacks far more.
    // The slack is relative for small stores, so that a truncated small file is caught too.
    const slack = Math.min(SLACK_PAGES, Math.max(8, Math.ceil(needed / psize / 10))) * psize;
    if (size + slack < needed) {
      throw storeCorrupt(dir, `${file} is ${size} bytes but its header says it holds ${needed} (the file was truncated)`);
    }
  } finally {
    closeSync(fd);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a decoded task record is not one the runner wrote, or undefined when it is sound. */
export function taskRecordProblem(key: string, v: unknown): string | undefined {
  if (!isObj(v)) return `task record ${key} is not a record (${typeof v})`;
  if (v.id !== key) return `task record ${key} has id ${JSON.stringify(v.id)}`;
  if (!(TASK_STATES as readonly string[]).includes(v.state as string)) return `task ${key} has the unknown state ${JSON.stringify(v.state)}`;
  for (const f of ['attempts', 'failures', 'runMs', 'checkpointSeq'] as const) {
    if (typeof v[f] !== 'number' || !Number.isFinite(v[f])) return `task ${key} has ${f} ${JSON.stringify(v[f])}`;
  }
  if (typeof v.stage !== 'string' || !Array.isArray(v.needs) || !Array.isArray(v.notes)) return `task ${key} lacks its stage, needs or notes`;
  return undefined;
}

export function stateEntryProblem(key: string, v: unknown): string | undefined {
  if (!Array.isArray(v) || !(TASK_STATES as readonly string[]).includes(v[0] as string)) return `state index entry ${key} is ${JSON.stringify(v)}`;
  return undefined;
}

export type { TaskRecord, TaskStateEntry };
