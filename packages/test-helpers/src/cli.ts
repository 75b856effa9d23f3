/**
 * Helpers for tests that drive the real `runner` CLI in child processes: spawn it, kill it with
 * SIGKILL at a chosen moment, read its state back with `--json` commands.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const RUNNER_BIN = join(REPO, 'packages/core/bin/runner.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnedRunner {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  done: Promise<CliResult>;
}

export function spawnCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): SpawnedRunner {
  const child = spawn(process.execPath, [RUNNER_BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, output: () => stdout + stderr, done };
}

export async function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return spawnCli(args, opts).done;
}

/** Runs a `--json` command and parses its output. */
export async function cliJson<T = any>(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<T> {
  const r = await runCli([...args, '--json'], opts);
  if (r.code !== 0) throw new Error(`runner ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface CliError {
  code: string;
  /** The first line of the message. */
  message: string;
  hint?: string;
}

/**
 * The error a failed command printed. With `--json` it is the `{ "error": { code, ... } }` object
 * the CLI prints on stdout; otherwise it is read from its fixed place on stderr, `error <CODE>:
 * <message>`, then `hint: <hint>` (cli/format.ts `printError`). Either way a test reads the code
 * from where the CLI puts it rather than searching the whole output for it.
 */
export function cliError(result: CliResult | string): CliError {
  if (typeof result !== 'string' && result.stdout.trimStart().startsWith('{"error"')) {
    const e = (JSON.parse(result.stdout) as { error: { code: string; message: string; hint: string | null } }).error;
    return { code: e.code, message: e.message.split('\n')[0]!, ...(e.hint !== null ? { hint: e.hint } : {}) };
  }
  const text = typeof result === 'string' ? result : result.stderr;
  const m = /^error (\S+): (.*)$/m.exec(text);
  if (!m) throw new Error(`no "error <CODE>: <message>" line in:\n${text}`);
  const hint = /^hint: (.*)$/m.exec(text.slice(m.index))?.[1];
  return { code: m[1]!, message: m[2]!, ...(hint !== undefined ? { hint } : {}) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `pred()` holds, polling; throws after `timeoutMs`. */
export async function waitFor(pred: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * A throwaway project directory with a package.json (so runs/ lands inside it) and the given
 * files, e.g. `{ 'job.yaml': '...' }`.
 */
export function tempProject(files: Record<string, string>, prefix = 'runner-it-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'it', private: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/**
 * Whether an unprivileged user (nobody) can run the CLI from this checkout. Read-only tests run
 * the CLI as nobody when the suite runs as root (root ignores permission bits); a clone under a
 * private directory (mktemp's 0700) is out of nobody's reach, and those tests are skipped there.
 */
export function nobodyCanRunCli(): boolean {
  try {
    execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(RUNNER_BIN)})`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
