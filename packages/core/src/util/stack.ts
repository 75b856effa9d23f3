/**
 * Where an error was thrown, as a user would look for it: the top frames of a V8 stack that
 * belong to the plugin (not to Node, the pool or the runner itself), mapped through the source
 * maps that built JavaScript ships next to it (`index.js.map` → `src/index.ts`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StackFrame {
  /** Function name, when V8 knew one. */
  fn?: string;
  /** Absolute path of the source file (mapped when a source map was found). */
  file: string;
  line: number;
  col: number;
}

const FRAME = /^\s*at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/;

/** Every frame of a V8 stack string that names a file, unmapped. */
export function parseStack(stack: string): StackFrame[] {
  const out: StackFrame[] = [];
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (!m) continue;
    let file = m[2]!;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (file.startsWith('node:') || file.startsWith('internal/') || !isAbsolute(file)) continue;
    const fn = m[1]?.replace(/^async /, '');
    out.push({ ...(fn ? { fn } : {}), file, line: Number(m[3]), col: Number(m[4]) });
  }
  return out;
}

const coreRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The runner's own files and the libraries that carry a task to the plugin. */
function isMachinery(file: string): boolean {
  return file.startsWith(coreRoot + sep) || /[\\/]node_modules[\\/](piscina|jiti|\.pnpm[\\/](piscina|jiti)@)/.test(file);
}

/**
 * The top `limit` frames of `stack` that are the plugin's, mapped to their sources. Frames of
 * the runner and of Node are skipped; a stack with only those gives its first frames instead.
 */
export function topFrames(stack: string | undefined, limit = 3): StackFrame[] {
  if (!stack) return [];
  const all = parseStack(stack);
  const own = all.filter((f) => !isMachinery(f.file));
  return (own.length > 0 ? own : all).slice(0, limit).map(mapFrame);
}

const maps = new Map<string, SourceMap | null>();

function sourceMapOf(file: string): SourceMap | null {
  let m = maps.get(file);
  if (m !== undefined) return m;
  m = null;
  try {
    if (/\.[cm]?js$/.test(file) && existsSync(`${file}.map`)) m = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
  } catch {
    m = null;
  }
  maps.set(file, m);
  return m;
}

/** Maps one frame through `<file>.map` when there is one and the original source exists. */
export function mapFrame(frame: StackFrame): StackFrame {
  const map = sourceMapOf(frame.file);
  if (!map) return frame;
  const e = map.findEntry(frame.line - 1, frame.col - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
  if (!e?.originalSource || e.originalLine === undefined) return frame;
  const src = e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : resolve(dirname(frame.file), e.originalSource);
  if (!existsSync(src)) return frame;
  return { ...(frame.fn ? { fn: frame.fn } : {}), file: src, line: e.originalLine + 1, col: (e.originalColumn ?? 0) + 1 };
}

export function formatFrame(f: StackFrame, cwd = process.cwd()): string {
  const file = f.file.startsWith(cwd + sep) ? f.file.slice(cwd.length + 1) : f.file;
  return `${f.fn ? `${f.fn} ` : ''}(${file}:${f.line}:${f.col})`;
}
