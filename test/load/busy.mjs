#!/usr/bin/env node
/**
 * Runs a command (by default the whole test suite) while every core is kept busy by a CPU-bound
 * loop in another process, to prove that no test races a timer against a process:
 *
 *   node test/load/busy.mjs                          # vitest run, with one busy loop per core
 *   node test/load/busy.mjs -- npx vitest run test/operations.test.ts
 *   BUSY_LOOPS=4 node test/load/busy.mjs             # more loops than cores
 *
 * Prints how long the command took and exits with its exit code. The loops are killed when it
 * ends or this script is interrupted, and end by themselves when this script dies.
 */
import { fork, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === '--loop') busyLoop();
else main();

/** Pure CPU in slices of a few ms, yielding in between so that it notices its parent is gone. */
function busyLoop() {
  process.on('disconnect', () => process.exit(0));
  let x = 0;
  const slice = () => {
    for (let i = 0; i < 2e6; i++) x = (x * 1103515245 + 12345) % 2147483648;
    setImmediate(slice);
  };
  slice();
}

function main() {
  const sep = process.argv.indexOf('--');
  const command = sep >= 0 ? process.argv.slice(sep + 1) : ['npx', 'vitest', 'run'];
  const loops = Number(process.env.BUSY_LOOPS ?? availableParallelism());
  const self = fileURLToPath(import.meta.url);
  const busy = Array.from({ length: loops }, () => fork(self, ['--loop'], { stdio: 'ignore' }));
  const stop = () => {
    for (const b of busy) b.kill('SIGKILL');
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      stop();
      process.exit(130);
    });
  }
  console.log(`busy.mjs: ${loops} CPU-bound loop${loops === 1 ? '' : 's'} running; ${command.join(' ')}`);
  const t0 = Date.now();
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    stop();
    console.log(`busy.mjs: ${command.join(' ')} ${signal ? `ended on ${signal}` : `exited ${code}`} after ${((Date.now() - t0) / 1000).toFixed(1)} s under load`);
    process.exit(code ?? 1);
  });
}
