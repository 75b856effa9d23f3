#!/usr/bin/env node
// Regenerates schema/job-spec.schema.json (core keys + the built-in plugins' options) for editors.
// `pnpm gen:schema` at the repository root; a test fails when the checked-in file is stale.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { editorSchemaText } from '../dist/config/editor-schema.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '../schema/job-spec.schema.json');
writeFileSync(out, await editorSchemaText());
console.log(`wrote ${out}`);
