import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { documentedErrorCodes } from '@runner/core/testing';
import { DownloadErrorCodes } from '../src/errors.js';

const DOC = readFileSync(new URL('../../../../docs/download.md', import.meta.url), 'utf8');

describe('docs/download.md', () => {
  test('its error table and the plugin\'s error codes match, both ways and in order, each with what to do', () => {
    expect(documentedErrorCodes(DOC, 'DOWNLOAD_')).toEqual(Object.keys(DownloadErrorCodes));
  });
});
