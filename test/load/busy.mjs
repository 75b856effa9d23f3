#!/usr/bin/env node
/**
 * Runs a command (by default the whole test suite) while every core is kept busy by a CPU-bound
 * loop in another process, to prove that no test races a timer against a process:
 *
 *   node test/load/busy.mjs                          # vitest run, with one busy loop per core
 *   node test/load/busy.mjs -- npx vitest run test/operations.test.ts
 *   BUSY_LOOPS=4 node test/load/busy.mjs             # more loops than cores
 *
 * Prints how long the command took and exits with its exit code. The loops stop when it ends
 * (and when this script is interrupted).
 */
import { fork, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === '--loop') {
  // The busy loop: pure CPU, no I/O, until its parent goes away.
  process.on('disconnect', () => process.exit(0));
  let x = 0;
  for (;;) {
    for (let i = 0; i < 1e7; i++) x = (x * 1103515245 + 12345) % 2147483648;
    if (!process.connected) process.exit(0);
  }
}

const sep = process.argv.indexOf('--');
const command = sep >= 0 ? process.argv.slice(sep + 1) : ['npx', 'vitest', 'run'];
const loops = Number(process.env.BUSY_LOOPS ?? availableParallelism());
const self = fileURLToPath(import.meta.url);
const busy = Array.from({ length: loops }, () => fork(self, ['--loop'], { stdio: 'ignore' }));
const stop = () => {
  for (const b of busy) if (b.connected) b.disconnect();
};
process.on('SIGINT', () => {
  stop();
  process.exit(130);
});
console.log(`busy.mjs: ${loops} CPU-bound loop${loops === 1 ? '' : 's'} running; ${command.join(' ')}`);
const t0 = Date.now();
const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  stop();
  console.log(`busy.mjs: ${command.join(' ')} ${signal ? `ended on ${signal}` : `exited ${code}`} after ${((Date.now() - t0) / 1000).toFixed(1)} s under load`);
  process.exit(code ?? 1);
});
