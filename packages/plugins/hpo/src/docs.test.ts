import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { JSONSchema } from '@runner/core';
import { documentedErrorCodes } from '@runner/core/testing';
import { HPO_ERROR_CODES } from './errors.js';
import { hpoSchema } from './plugin/schema.js';

const DOC = readFileSync(new URL('../../../../docs/hpo.md', import.meta.url), 'utf8');

function rows(s: JSONSchema, prefix = ''): { path: string; schema: JSONSchema }[] {
  const out: { path: string; schema: JSONSchema }[] = [];
  for (const [k, v] of Object.entries((s.properties as Record<string, JSONSchema>) ?? {})) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push({ path: p, schema: v });
    if (k !== 'space' && k !== 'options') out.push(...rows(v, p));
  }
  return out;
}

describe('docs/hpo.md', () => {
  test('has a row for every option, with its default and the schema description', () => {
    for (const { path, schema } of rows(hpoSchema)) {
      const line = DOC.split('\n').find((l) => l.startsWith(`| \`${path}\` |`));
      expect(line, path).toBeDefined();
      if (schema.default !== undefined) expect(line, path).toContain(`\`${JSON.stringify(schema.default)}\``);
      expect(line, path).toContain(String(schema.description).replace(/\|/g, '\\|'));
    }
  });

  test('every option in the schema has a description', () => {
    const missing = rows(hpoSchema).filter((r) => !r.schema.description).map((r) => r.path);
    expect(missing).toEqual([]);
  });

  test('its error table and its error codes match, both ways and in order, each with what to do', () => {
    expect(documentedErrorCodes(DOC, 'HPO_')).toEqual([...HPO_ERROR_CODES]);
  });
});
