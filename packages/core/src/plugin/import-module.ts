/**
 * Imports a user's module (a plugin, a backtest strategy) from a path: JavaScript natively,
 * TypeScript without a build step through jiti, the loader Nuxt, Tailwind, ESLint's flat config and
 * vite's `configLoader` use. jiti is pure JavaScript with no dependencies and no native binary (tsx
 * needs esbuild's per-platform binary), works in worker threads without registering loader hooks,
 * and emits source maps, so stack frames name the `.ts` file and line the author wrote.
 *
 * A module that does not parse becomes a `RUNNER_MODULE_INVALID` error whose issue names the file,
 * line and column.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { moduleInvalid } from '../errors.js';

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

type Jiti = import('jiti').Jiti;
let jiti: Promise<Jiti> | undefined;

function loader(): Promise<Jiti> {
  jiti ??= import('jiti').then(({ createJiti }) =>
    createJiti(import.meta.url, {
      // Frames inside TypeScript modules map back to the author's lines.
      sourceMaps: true,
      // Plugins may be edited between runs; the parsed source is cheap to redo and a stale cache
      // in the system's temp dir would be worse.
      fsCache: false,
      interopDefault: false,
    }),
  );
  return jiti;
}

/** Whether `file` is TypeScript that {@link importUserModule} compiles on the fly. */
export function isTypeScriptFile(file: string): boolean {
  return TS_EXTENSIONS.has(extname(file).toLowerCase());
}

/**
 * Imports the module at the absolute path `file` and returns its namespace object. `.ts`, `.mts`,
 * `.cts` and `.tsx` files are compiled on the fly (types are stripped, not checked); everything
 * else goes through Node's own `import()`.
 *
 * @throws RunnerError `RUNNER_MODULE_INVALID` with the file, line and column when the module has a
 *   syntax error. Errors the module throws while it is evaluated propagate unchanged.
 * @example
 * ```ts
 * const mod = await importUserModule('/project/strategies/momentum.ts');
 * const strategy = moduleDefault(mod);
 * ```
 */
export async function importUserModule(file: string): Promise<Record<string, unknown>> {
  try {
    if (isTypeScriptFile(file)) {
      // Stack frames of TypeScript modules are mapped only when maps are on as the code compiles.
      process.setSourceMapsEnabled(true);
      return (await (await loader()).import(file)) as Record<string, unknown>;
    }
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const at = await syntaxErrorLocation(err, file);
    if (at) throw moduleInvalid(at.file, at.line, at.col, at.message, err);
    throw err;
  }
}

/**
 * The module's default export, unwrapped through the layers a CommonJS build adds:
 * `module.exports = { default: plugin }` imported from ESM arrives as `{ default: { default: plugin } }`.
 */
export function moduleDefault(mod: Record<string, unknown>): unknown {
  let v: unknown = 'default' in mod ? mod.default : mod;
  if (isObject(v) && 'default' in v && (v.__esModule === true || onlyDefault(v))) v = v.default;
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null;
}

/** `{ default: x }` (maybe with `__esModule`), the shape a transpiled `export default` leaves. */
function onlyDefault(v: Record<string, unknown>): boolean {
  const keys = Object.keys(v).filter((k) => k !== '__esModule');
  return keys.length === 1 && keys[0] === 'default';
}

interface Location {
  /** The file that does not parse: the module itself, or one it imports. */
  file: string;
  line: number;
  col: number;
  message: string;
}

async function syntaxErrorLocation(err: unknown, file: string): Promise<Location | undefined> {
  if (!isObject(err)) return undefined;
  const message = typeof err.message === 'string' ? err.message : String(err);
  // jiti (babel) words it "ParseError: Unexpected token \n /path/to/file.ts:3:12" (0-based column).
  const m = /^(?:Error: )?(ParseError|SyntaxError)\b[^\n]*\n\s*(\/.*?):(\d+):(\d+)\s*$/m.exec(message);
  if (m) return { file: m[2]!, line: Number(m[3]), col: Number(m[4]) + 1, message: firstLine(message.replace(/^Error:\s*/, '')) };
  // Node's own SyntaxError for ES modules carries no position (and a bundler in between may word
  // it differently): babel's parser, which jiti ships, finds it. A module that parses is not at
  // fault here, and its error propagates as it is.
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // jiti's transform reports a parse failure as code that would throw it.
  try {
    const out = (await loader()).transform({ source, filename: file, ts: isTypeScriptFile(file) });
    const m2 = /__JITI_ERROR__ = (\{.*\})/.exec(out);
    const e = m2 ? (JSON.parse(m2[1]!) as { line?: number; column?: number; message?: string }) : undefined;
    if (e && typeof e.line === 'number') {
      const own = err.name === 'SyntaxError' ? firstLine(message) : `SyntaxError: ${(e.message ?? 'Unexpected token').trim()}`;
      return { file, line: e.line, col: (e.column ?? 0) + 1, message: own };
    }
  } catch {
    // no position then
  }
  return undefined;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

