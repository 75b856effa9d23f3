import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open as openAsync, rename as renameAsync, mkdir as mkdirAsync, rm as rmAsync } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function tmpName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes a file so that readers see either the old content or the new, never a mix: write a
 * temporary file in the same directory, fsync it, rename it over the target, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<{ size: number; sha256: string }> {
  await mkdirAsync(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const fh = await openAsync(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await rmAsync(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await renameAsync(tmp, path);
  } catch (err) {
    await rmAsync(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
  return { size: bytes.byteLength, sha256: sha256(bytes) };
}

export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  const fd = openSync(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // some filesystems cannot fsync directories
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await openAsync(dir, 'r');
    await fh.sync().catch(() => {});
    await fh.close();
  } catch {
    // some filesystems cannot fsync directories
  }
}
