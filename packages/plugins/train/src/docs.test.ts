import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import type { JSONSchema } from '@runner/core';
import { documentedErrorCodes } from '@runner/core/testing';
import { TrainErrorCodes } from './errors.js';
import { schema } from './schema.js';

const DOC = readFileSync(resolve(fileURLToPath(import.meta.url), '../../../../../docs/train.md'), 'utf8');

function paths(s: JSONSchema, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries((s.properties as Record<string, JSONSchema>) ?? {})) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (p === 'model.layers') {
      out.push(p);
      continue;
    }
    out.push(p, ...paths(v, p));
  }
  return out;
}

describe('docs/train.md', () => {
  test('documents every option, with a description and (where one exists) its default', () => {
    for (const p of paths(schema)) expect(DOC, p).toContain(`| \`${p}\` |`);
    const layerKinds = Object.keys(((schema.properties as any).model.properties.layers.items.properties as object) ?? {});
    for (const k of layerKinds) expect(DOC, k).toContain(`| \`${k}\` |`);
  });

  test('every option in the schema has a description', () => {
    const missing: string[] = [];
    const walk = (s: JSONSchema, prefix: string) => {
      for (const [k, v] of Object.entries((s.properties as Record<string, JSONSchema>) ?? {})) {
        const p = prefix ? `${prefix}.${k}` : k;
        if (!v.description) missing.push(p);
        walk(v, p);
        if ((v.items as JSONSchema | undefined)?.properties) walk(v.items as JSONSchema, `${p}[]`);
      }
    };
    walk(schema, '');
    expect(missing).toEqual([]);
  });

  test('its error table and its error codes match, both ways, each with what to do', () => {
    expect(documentedErrorCodes(DOC, 'TRAIN_').sort()).toEqual(Object.keys(TrainErrorCodes).sort());
  });
});
