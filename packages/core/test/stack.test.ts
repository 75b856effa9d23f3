import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatFrame, parseStack, topFrames } from '../src/util/stack.js';

describe('stack frames', () => {
  test('parses V8 frames, skipping Node internals and frames without a file', () => {
    const stack = [
      'Error: boom',
      '    at check (/p/plugins/count.ts:6:23)',
      '    at async Object.run (file:///p/plugins/count.mjs:14:47)',
      '    at /p/anon.js:1:2',
      '    at new Promise (<anonymous>)',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    ].join('\n');
    expect(parseStack(stack)).toEqual([
      { fn: 'check', file: '/p/plugins/count.ts', line: 6, col: 23 },
      { fn: 'Object.run', file: '/p/plugins/count.mjs', line: 14, col: 47 },
      { file: '/p/anon.js', line: 1, col: 2 },
    ]);
  });

  test("maps a built file's frame through its .map to a source that exists, and keeps it otherwise", () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-stack-'));
    writeFileSync(join(dir, 'index.ts'), 'line one\nline two\nthrow here\n');
    writeFileSync(join(dir, 'index.js'), 'compiled\n');
    // One segment: generated line 1, column 0 → source 0, line 3 (0-based 2), column 4.
    writeFileSync(join(dir, 'index.js.map'), JSON.stringify({ version: 3, file: 'index.js', sources: ['index.ts'], names: [], mappings: 'AAEI' }));
    const [f] = topFrames(`Error: x\n    at run (${join(dir, 'index.js')}:1:1)`);
    expect(f).toEqual({ fn: 'run', file: join(dir, 'index.ts'), line: 3, col: 5 });
    writeFileSync(join(dir, 'other.js.map'), JSON.stringify({ version: 3, sources: ['gone.ts'], names: [], mappings: 'AAEI' }));
    expect(topFrames(`Error: x\n    at run (${join(dir, 'other.js')}:1:1)`)[0]!.file).toBe(join(dir, 'other.js'));
    expect(formatFrame(f!, dir)).toBe('run (index.ts:3:5)');
  });
});
