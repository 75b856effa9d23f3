import { open, type FileHandle } from 'node:fs/promises';

/**
 * Reopens a partial download to continue it at `bytes`, the length its checkpoint holds: anything
 * written past the checkpoint is cut off. Undefined when the file is missing or shorter than the
 * checkpoint says (the caller starts over).
 */
export async function reopenPartial(path: string, bytes: number): Promise<FileHandle | undefined> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r+');
    if ((await fh.stat()).size < bytes) throw new Error('shorter than its checkpoint');
    await fh.truncate(bytes);
    return fh;
  } catch {
    await fh?.close().catch(() => {});
    return undefined;
  }
}
