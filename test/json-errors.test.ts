/**
 * Under `--json` a failed command's error is data: one `{ "error": { code, message, hint, issues,
 * taskId, exitCode } }` object on stdout, where the answer would have been, with the same exit
 * code; the human lines stay on stderr.
 */
import { describe, expect, test } from 'vitest';
import { cliError, runCli, tempProject } from '@runner/test-helpers/cli';

const JOB = `name: j
matrix: { s: [a, b] }
stages:
  - id: work
    plugin: steps
    options: { steps: 2, stepMs: 1 }
`;

describe('errors under --json', () => {
  test('a missing spec, a task that does not exist, a bad option and a usage error', async () => {
    const dir = tempProject({ 'job.yaml': JOB, 'bad.yaml': JOB.replace('steps: 2', 'steps: -1') });

    const missing = await runCli(['status', 'nope.yaml', '--json'], { cwd: dir });
    expect(missing.code).toBe(2);
    const m = JSON.parse(missing.stdout);
    expect(m.error).toMatchObject({ code: 'RUNNER_CONFIG_NOT_FOUND', exitCode: 2, message: expect.stringContaining('nope.yaml') });
    expect(typeof m.error.hint).toBe('string');
    expect(missing.stderr).toMatch(/^error RUNNER_CONFIG_NOT_FOUND: /m);
    expect(cliError(missing).code).toBe('RUNNER_CONFIG_NOT_FOUND');

    const bad = await runCli(['plan', 'bad.yaml', '--json'], { cwd: dir });
    expect(bad.code).toBe(2);
    const b = JSON.parse(bad.stdout).error;
    expect(b.code).toBe('RUNNER_CONFIG_INVALID');
    // Each issue located: file, line, column and the config path.
    expect(b.issues).toContainEqual(expect.objectContaining({ file: expect.stringContaining('bad.yaml'), line: 6, path: 'stages[0].options.steps' }));

    const notStarted = await runCli(['resume', 'job.yaml', 'nope/*', '--json'], { cwd: dir });
    expect(notStarted.code).toBe(2);
    expect(JSON.parse(notStarted.stdout).error).toMatchObject({ code: 'RUNNER_TASK_STATE', hint: 'Start it with: runner start job.yaml' });
    const start = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(start.code, start.stderr).toBe(0);
    const task = await runCli(['resume', 'job.yaml', 'nope/*', '--json'], { cwd: dir });
    expect(task.code).toBe(2);
    expect(JSON.parse(task.stdout).error).toMatchObject({ code: 'RUNNER_TASK_NOT_FOUND', message: expect.stringContaining('no task matches "nope/*"') });

    const flag = await runCli(['status', 'job.yaml', '--json', '--bogus-flag'], { cwd: dir });
    expect(flag.code).toBe(2);
    expect(JSON.parse(flag.stdout).error).toMatchObject({ code: 'RUNNER_USAGE', exitCode: 2, message: expect.stringContaining('bogus-flag') });

    // Without --json, stdout stays empty: scripts that parse stdout never get a half answer.
    const plain = await runCli(['status', 'nope.yaml'], { cwd: dir });
    expect(plain.code).toBe(2);
    expect(plain.stdout).toBe('');
  }, 60_000);
});
