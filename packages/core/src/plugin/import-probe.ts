import { Worker } from 'node:worker_threads';

/** How long a plugin module may take to import; RUNNER_PLUGIN_IMPORT_TIMEOUT_MS overrides it. */
export const DEFAULT_IMPORT_TIMEOUT_MS = 30_000;

export function importTimeoutMs(): number {
  const v = Number(process.env.RUNNER_PLUGIN_IMPORT_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_IMPORT_TIMEOUT_MS;
}

// TypeScript modules go through the same loader as the real import (jiti), JavaScript natively.
const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.loader).then((m) => m.importUserModule(workerData.path)).then(
  () => parentPort.postMessage({ ok: true }),
  (e) => parentPort.postMessage({ ok: false, message: String((e && e.message) || e) }),
);
`;

/**
 * Imports a module once in a throwaway worker thread first. A module whose top-level await never
 * settles would end the main thread's event loop (exit 13, no output), and one that loops at
 * import time would hang it for good; in a worker either is seen and stopped after `timeoutMs`.
 * Resolves with a reason when the module cannot be imported in time, undefined otherwise (errors
 * the import throws are left to the real import, which reports them with their stack).
 */
export function probeImport(entry: string, timeoutMs = importTimeoutMs()): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (why: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(why);
    };
    const loader = new URL('./import-module.js', import.meta.url).href;
    const worker = new Worker(PROBE, { eval: true, workerData: { loader, path: entry }, stdout: true, stderr: true });
    worker.unref();
    const timer = setTimeout(
      () => done(`importing it did not finish within ${timeoutMs} ms (a loop or a long computation at import time?)`),
      timeoutMs,
    );
    worker.on('message', () => done(undefined));
    worker.on('error', () => done(undefined));
    worker.on('exit', () => done('its import never finished: a top-level await that never settles'));
  });
}
