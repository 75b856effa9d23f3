/**
 * Drive the real `runner` CLI from a test, the way a crash test does: start it in a child process,
 * wait for a line of its output, kill it with SIGKILL, run it again, read state back with `--json`.
 *
 * @example
 * ```ts
 * const dir = tempProject({ 'job.yaml': spec, 'plugins/count.ts': source });
 * const r = spawnRunner(['start', 'job.yaml'], { cwd: dir });
 * await r.waitForOutput(/checkpoint|start count/);
 * await r.kill();                                    // SIGKILL, as a crash would
 * expect((await runRunner(['start', 'job.yaml'], { cwd: dir })).code).toBe(0);
 * const tasks = await runnerJson<{ id: string; state: string }[]>(['tasks', 'job.yaml'], { cwd: dir });
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `runner` executable of this installation of `@runner/core`. */
export const RUNNER_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/runner.js');

export interface RunnerResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunnerCliOptions {
  /** Working directory; job spec paths resolve against it. */
  cwd?: string;
  env?: Record<string, string>;
}

export interface SpawnedRunner {
  child: ChildProcess;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /**
   * Resolves once the output contains `match` (now or later); rejects if the process exits first,
   * with what it printed.
   */
  waitForOutput(match: string | RegExp): Promise<void>;
  /** Sends SIGKILL (no cleanup runs, as in a crash) and resolves once the process is gone. */
  kill(): Promise<RunnerResult>;
  done: Promise<RunnerResult>;
}

/** Starts `runner <args>` in a child process, colours off. */
export function spawnRunner(args: string[], options: RunnerCliOptions = {}): SpawnedRunner {
  const child = spawn(process.execPath, [RUNNER_BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', (d) => {
    stdout += d;
    notify();
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
    notify();
  });
  let exited = false;
  const done = new Promise<RunnerResult>((res) =>
    child.on('close', (code, signal) => {
      exited = true;
      notify();
      res({ code, signal, stdout, stderr });
    }),
  );
  const output = () => stdout + stderr;
  const matches = (m: string | RegExp) => (typeof m === 'string' ? output().includes(m) : m.test(output()));
  return {
    child,
    output,
    done,
    waitForOutput(match) {
      return new Promise<void>((res, rej) => {
        const check = () => {
          if (matches(match)) {
            waiters.delete(check);
            res();
          } else if (exited) {
            waiters.delete(check);
            rej(new Error(`runner ${args.join(' ')} exited before printing ${String(match)}:\n${output()}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    kill() {
      if (!exited) child.kill('SIGKILL');
      return done;
    },
  };
}

/** Runs `runner <args>` to the end. */
export function runRunner(args: string[], options: RunnerCliOptions = {}): Promise<RunnerResult> {
  return spawnRunner(args, options).done;
}

/** Runs `runner <args> --json` and parses what it prints; throws with its stderr when it fails. */
export async function runnerJson<T = unknown>(args: string[], options: RunnerCliOptions = {}): Promise<T> {
  const r = await runRunner([...args, '--json'], options);
  if (r.code !== 0) throw new Error(`runner ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * A throwaway project directory (with a package.json, so `runs/` lands inside it) holding
 * `files`, e.g. `{ 'job.yaml': '...', 'plugins/count.ts': '...' }`.
 */
export function tempProject(files: Record<string, string>, prefix = 'runner-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'runner-test-project', private: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
