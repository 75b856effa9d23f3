/**
 * Files under `test/fixtures/`: plugin modules the tests load (`ticker.mjs`, `parent.mjs`, ...)
 * and job specs that several tests share (`specs/*.yaml`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './cli.js';

export const FIXTURES = join(REPO, 'test/fixtures');

/** The absolute path of a fixture, e.g. `fixture('ticker.mjs')`. */
export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** The text of a shared job spec, `test/fixtures/specs/<name>`, to write into a temp project. */
export function specFixture(name: string): string {
  return readFileSync(join(FIXTURES, 'specs', name), 'utf8');
}
