import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPlugin, type PluginRun, type RunPluginOptions } from '@runner/core/testing';
import plugin, { type DownloadOptions, type SeriesResult } from '../src/index.js';
import { sha256Hex } from '../src/paths.js';

const dirs: string[] = [];

export function tempDir(prefix = 'dl-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export function cleanup(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Fast retries and no rate limit unless a test asks for them. */
export const FAST = { rateLimit: { perSecond: 0, burst: 1 }, retries: { max: 4, baseMs: 1, maxMs: 20, maxRetryAfterMs: 5000 } };

export type Opts = Omit<Partial<DownloadOptions>, 'source'> & { source: Record<string, unknown> };

export async function download(options: Opts, symbol: string | undefined, run: RunPluginOptions = {}): Promise<PluginRun<SeriesResult>> {
  const dir = run.dir ?? tempDir();
  const r = await runPlugin(plugin, { ...FAST, ...options } as unknown as Partial<DownloadOptions>, {
    ...run,
    dir,
    task: { id: 'download/cycle=1', cell: symbol === undefined ? {} : { symbol }, ...run.task },
  });
  if (!run.dir) dirs.push(r.dir);
  return r as PluginRun<SeriesResult>;
}

export function fileSha(path: string): string {
  return sha256Hex(readFileSync(path));
}

/** sha256 of a stored series' values (independent of source options in the file's metadata). */
export function contentSha(result: { manifest: string }): string {
  return (JSON.parse(readFileSync(result.manifest, 'utf8')) as { contentSha256: string }).contentSha256;
}

/** Size of the partial download under a run directory's artifacts (what a killed run had received). */
export function partialBytes(runDir: string): number {
  const files = readdirSync(join(runDir, 'artifacts'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.download'));
  if (files.length !== 1) throw new Error(`expected one partial download under ${runDir}, found ${files.length}`);
  return statSync(join(runDir, 'artifacts', files[0]!)).size;
}
