/** Issue 9 §3 through the real CLI: bad input gets a located error and exit 2, never a hang or a crash. */
import { describe, expect, test } from 'vitest';
import { cliError, runCli, tempProject } from '@runner/test-helpers/cli';

const STAGES = `stages:
  - id: work
    plugin: steps
    options: { steps: 2, stepMs: 1 }
`;

describe('bad input: located errors, exit 2', () => {
  test('a YAML alias bomb is a located parse error, not a crash', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill('*' + String.fromCharCode(96 + i)).join(', ')}]`);
    const dir = tempProject({ 'job.yaml': `name: bomb\n${STAGES}x-bomb:\n${levels.map((l) => '  ' + l).join('\n')}\n` });
    const r = await runCli(['validate', 'job.yaml'], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(cliError(r).code).toBe('RUNNER_CONFIG_PARSE');
    expect(r.stderr).toMatch(/job\.yaml:\d+:\d+ .*Excessive alias count/);
  });

  test('plugins that never finish importing are located config errors (top-level await, busy loop)', async () => {
    const dir = tempProject({
      'job.yaml': `name: hang\nplugins: [./tla.mjs, ./busy.mjs]\n${STAGES}`,
      'tla.mjs': `await new Promise(() => {});\nexport default { name: 'tla', version: '1.0.0', run() {} };\n`,
      'busy.mjs': `for (;;) {}\nexport default { name: 'busy', version: '1.0.0', run() {} };\n`,
    });
    const r = await runCli(['validate', 'job.yaml'], { cwd: dir, env: { RUNNER_PLUGIN_IMPORT_TIMEOUT_MS: '2000' } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/job\.yaml:2:11 +plugins\[0\]: .*tla\.mjs: its import never finished: a top-level await that never settles/);
    expect(r.stderr).toMatch(/job\.yaml:2:22 +plugins\[1\]: .*busy\.mjs: importing it did not finish within 2000 ms/);
  }, 60_000);

  test('--only with a pattern that matches nothing exits 2 and says so', async () => {
    const dir = tempProject({ 'job.yaml': `name: only\nmatrix: { s: [a, b] }\n${STAGES}` });
    const r = await runCli(['start', 'job.yaml', '--only', 'work/s=zzz*'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(cliError(r).code).toBe('RUNNER_TASK_NOT_FOUND');
    expect(r.stderr).toContain('--only work/s=zzz* matches none of the 2 planned tasks');
    expect(r.stdout).not.toMatch(/start work/);
  });

  test('--threads -1 names the flag', async () => {
    const dir = tempProject({ 'job.yaml': `name: th\npool: { threads: 2 }\n${STAGES}` });
    const r = await runCli(['start', 'job.yaml', '--threads', '-1'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--threads +pool\.threads: must be >= 1 \(got -1\) \(from --threads -1\)/);
  });
});
