#!/usr/bin/env node
// `pnpm bench <name> [args]` runs bench/<name>/index.mjs. Benchmarks print their figures and end
// with one `RESULT key=value ...` line. They are not tests: nothing here passes or fails CI.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'index.mjs')))
  .map((d) => d.name);
if (!name || !available.includes(name)) {
  console.error(`usage: pnpm bench <name> [args]\navailable: ${available.join(', ')}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, [join(here, name, 'index.mjs'), ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
