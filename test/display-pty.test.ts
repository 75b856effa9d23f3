/**
 * The live display through a real pseudo-terminal (util-linux `script`) at 80 and 200 columns,
 * replayed into a terminal emulator (@xterm/headless): every line printed above the bars must be
 * on screen in full, once, and no stale bar may be left behind, however long the lines.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import xterm from '@xterm/headless';
import { describe, expect, test } from 'vitest';
import { RUNNER_BIN, tempProject } from '@runner/test-helpers/cli';

const hasScript = spawnSync('script', ['--version']).status === 0;

const TALK = `export default {
  name: 'talk', version: '1.0.0',
  schema: { type: 'object', properties: { lines: { type: 'integer', default: 6 } } },
  async run(ctx) {
    for (let i = 1; i <= ctx.options.lines; i++) {
      ctx.progress({ step: i, total: ctx.options.lines, unit: 'epoch', inner: { step: i, total: 40, unit: 'batch' }, metrics: { loss: 1 / i } });
      ctx.log.info('line ' + i + ' of ' + ctx.task.id + ' ' + 'x'.repeat(120) + ' end');
      await new Promise((r) => setTimeout(r, 40));
    }
    return { metrics: { val_loss: 0.5 } };
  },
};
`;

function job(): string {
  return `name: wide
matrix: { symbol: [AAPL_WITH_A_VERY_LONG_SYMBOL_NAME_FOR_WRAPPING, MSFT_ALSO_QUITE_A_LONG_SYMBOL_NAME_HERE], horizon: [1, 5, 20] }
plugins: [./talk.mjs]
pool: { threads: 2 }
stages:
  - { id: fit, plugin: talk, options: { lines: 6 } }
`;
}

/** Runs the CLI in a pty of the given width; resolves with the raw bytes it wrote. */
function runInPty(dir: string, cols: number): Promise<string> {
  const log = join(dir, `pty-${cols}.txt`);
  const cmd = `stty cols ${cols} rows 30; exec "${process.execPath}" "${RUNNER_BIN}" start job.yaml`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', cmd, log], { cwd: dir, stdio: ['pipe', 'ignore', 'inherit'], env: { ...process.env, TERM: 'xterm-256color', NO_COLOR: '' } });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(readFileSync(log, 'utf8')) : reject(new Error(`runner exited ${code}`))));
  });
}

/** What a terminal of `cols` columns shows (scrollback included), wrapped rows joined back into lines. */
async function screen(raw: string, cols: number): Promise<string[]> {
  const body = raw.replace(/^Script started[^\n]*\n/, '').replace(/\r?\nScript done[^\n]*\n?$/, '');
  const term = new xterm.Terminal({ cols, rows: 30, scrollback: 100_000, allowProposedApi: true });
  await new Promise<void>((r) => term.write(body, r));
  const buf = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i++) {
    const row = buf.getLine(i)!;
    const text = row.translateToString(true);
    if (row.isWrapped && lines.length > 0) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  return lines.map((l) => l.trimEnd()).filter((l) => l.length > 0);
}

describe.skipIf(!hasScript)('terminal display in a pseudo-terminal', () => {
  for (const cols of [80, 200]) {
    test(`${cols} columns: every line intact, no stale bars`, async () => {
      const dir = tempProject({ 'job.yaml': job(), 'talk.mjs': TALK });
      const lines = await screen(await runInPty(dir, cols), cols);
      const ids = ['AAPL_WITH_A_VERY_LONG_SYMBOL_NAME_FOR_WRAPPING', 'MSFT_ALSO_QUITE_A_LONG_SYMBOL_NAME_HERE'].flatMap((s) => [1, 5, 20].map((h) => `fit/symbol=${s}/horizon=${h}/cycle=1`));
      for (const id of ids) {
        for (let i = 1; i <= 6; i++) {
          const want = `info ${id} line ${i} of ${id} ${'x'.repeat(120)} end`;
          expect(lines.filter((l) => l === want), `line ${i} of ${id}`).toHaveLength(1);
        }
        expect(lines.filter((l) => l.startsWith(`done  ${id} in `))).toHaveLength(1);
      }
      expect(lines[0]).toMatch(/^wide: 6 tasks \(0 completed, 6 to run\), 2 threads, store /);
      expect(lines.at(-1)).toMatch(/^wide: 6\/6 completed in /);
      // Only the final overall bar is left; bars of running tasks were erased, not scrolled up.
      const bars = lines.filter((l) => /[█░]{24}/.test(l));
      expect(bars).toEqual([expect.stringMatching(/^█{24} 6\/6 tasks {2}done {2}✓6 ▶0$/)]);
    });
  }
});
