import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import type { JSONSchema } from '@runner/core';
import { BacktestErrorCodes } from './errors.js';
import { optionsSchema } from './schema.js';

const DOC = readFileSync(resolve(fileURLToPath(import.meta.url), '../../../../../docs/backtest.md'), 'utf8');

function paths(s: JSONSchema, prefix = ''): string[] {
  return Object.entries((s.properties as Record<string, JSONSchema>) ?? {}).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...paths(v, p)];
  });
}

describe('docs/backtest.md', () => {
  test('documents every option, and every option has a description', () => {
    for (const p of paths(optionsSchema)) expect(DOC, p).toContain(`| \`${p}\` |`);
    const missing: string[] = [];
    const walk = (s: JSONSchema, prefix: string) => {
      for (const [k, v] of Object.entries((s.properties as Record<string, JSONSchema>) ?? {})) {
        if (!v.description) missing.push(prefix + k);
        walk(v, `${prefix}${k}.`);
      }
    };
    walk(optionsSchema, '');
    expect(missing).toEqual([]);
  });

  test('lists every error code with what to do', () => {
    for (const code of Object.keys(BacktestErrorCodes)) expect(DOC, code).toMatch(new RegExp(`\\| \`${code}\` \\|[^\\n]+\\|[^\\n]+\\|`));
  });
});
