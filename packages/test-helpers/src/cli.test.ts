import { describe, expect, test } from 'vitest';
import { printError } from '../../core/src/cli/format.js';
import { storeCorrupt, taskNotFound } from '../../core/src/errors.js';
import { cliError } from './cli.js';

/** What the CLI prints for an error, through its own printer, colours off as in spawnCli. */
function printed(err: unknown): string {
  let text = '';
  const stream = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  const noColor = process.env.NO_COLOR;
  process.env.NO_COLOR = '1';
  try {
    printError(err, stream);
  } finally {
    if (noColor === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = noColor;
  }
  return text;
}

describe('cliError', () => {
  test("reads code, message and hint from the CLI's error printer", () => {
    const text = printed(taskNotFound('nope/*', 'List them with runner tasks.'));
    expect(cliError(text)).toEqual({ code: 'RUNNER_TASK_NOT_FOUND', message: 'no task matches "nope/*"', hint: 'List them with runner tasks.' });
    expect(cliError({ code: 2, signal: null, stdout: '', stderr: `some output first\n${text}` }).code).toBe('RUNNER_TASK_NOT_FOUND');
  });

  test('a code named only inside a message is not taken for the error code', () => {
    const text = printed(storeCorrupt('/runs/x', 'RUNNER_TASK_NOT_FOUND appears in a record'));
    expect(cliError(text).code).toBe('RUNNER_STORE_CORRUPT');
  });

  test('output without an error line is an error of the test, with the output', () => {
    expect(() => cliError('error: something without a code\n')).toThrow(/no "error <CODE>: <message>" line in:\nerror: something without a code/);
  });
});
