/**
 * A plugin's failure reaches the user whole: its plugin, code, message, hint and the top frames
 * of its stack (mapped to the plugin's source), in the terminal, in `runner tasks <pattern>` and
 * in `--json`; a plugin module that does not parse is named with file, line and column.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, REPO, runCli, tempProject } from '@runner/test-helpers/cli';

/** A project whose TypeScript plugin imports `@runner/core`, as it would from npm. */
function project(files: Record<string, string>): string {
  const dir = tempProject(files);
  mkdirSync(join(dir, 'node_modules/@runner'), { recursive: true });
  symlinkSync(join(REPO, 'packages/core'), join(dir, 'node_modules/@runner/core'), 'dir');
  return dir;
}

const countTs = `import { definePlugin, PluginError } from '@runner/core';

function check(i: number, limit: number): void {
  if (i > limit) throw new PluginError('COUNT_TOO_FAR', \`counted to \${i}\`, { hint: \`Use to <= \${limit}.\`, retryable: false, details: { limit } });
}

export default definePlugin({
  name: 'count',
  version: '1.0.0',
  schema: { type: 'object', properties: { to: { type: 'integer', default: 5, description: 'Count to this.' } } },
  async run(ctx) {
    for (let i = 1; i <= ctx.options.to; i++) check(i, 3);
    return { counted: ctx.options.to };
  },
});
`;

interface TaskJson {
  id: string;
  state: string;
  error: {
    code: string;
    message: string;
    hint: string;
    plugin: string;
    retryable: boolean;
    cause: { name: string; code: string; message: string } | null;
    details: Record<string, unknown> | null;
    frames: { fn?: string; file: string; line: number; col: number }[];
  } | null;
}

describe('a failed task', () => {
  test('shows plugin, code, message, hint and source frames: terminal, tasks <pattern>, --json', async () => {
    const dir = project({
      'plugins/count.ts': countTs,
      'job.yaml': 'name: errs\nplugins: [./plugins/count.ts]\nstages:\n  - { id: c, plugin: count }\n',
    });
    const start = await runCli(['start', 'job.yaml'], { cwd: dir });
    expect(start.code).toBe(1);
    expect(start.stdout).toMatch(/failed c\/cycle=1 after \S+: \[count\] COUNT_TOO_FAR counted to 4/);
    expect(start.stdout).toContain('hint: Use to <= 3.');
    expect(start.stdout).toContain('at check (plugins/count.ts:4:');
    expect(start.stdout).toContain('at Object.run (plugins/count.ts:12:');

    const tasks = await runCli(['tasks', 'job.yaml', 'c/*'], { cwd: dir });
    expect(tasks.code).toBe(0);
    expect(tasks.stdout).toContain('[count] COUNT_TOO_FAR counted to 4');
    expect(tasks.stdout).toContain('hint: Use to <= 3.');
    expect(tasks.stdout).toContain('at check (plugins/count.ts:4:');

    const byState = await runCli(['tasks', 'job.yaml', '--state', 'failed'], { cwd: dir });
    expect(byState.stdout).toContain('hint: Use to <= 3.');

    const [t] = await cliJson<TaskJson[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(t!.state).toBe('failed');
    expect(t!.error).toMatchObject({
      code: 'RUNNER_PLUGIN_FAILED',
      plugin: 'count',
      hint: 'Use to <= 3.',
      retryable: false,
      cause: { name: 'PluginError', code: 'COUNT_TOO_FAR', message: 'counted to 4' },
      details: { limit: 3 },
    });
    expect(t!.error!.frames[0]).toEqual({ fn: 'check', file: join(dir, 'plugins/count.ts'), line: 4, col: expect.any(Number) });
  });

  test('of a built plugin maps its frames through the shipped source maps to src/', async () => {
    const dir = tempProject({ 'job.yaml': 'name: built\nstages:\n  - { id: s, plugin: steps, options: { steps: 5, failAtStep: 2, failRetryable: false } }\n' });
    expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(1);
    const [t] = await cliJson<TaskJson[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(t!.error!.message).toContain('injected failure at step 2');
    expect(t!.error!.code).toBe('RUNNER_PLUGIN_FAILED');
    expect(t!.error!.frames[0]!.file).toBe(join(REPO, 'packages/plugins/steps/src/index.ts'));
    const shown = await runCli(['tasks', 'job.yaml', 's/*'], { cwd: dir });
    // No code of its own: the runner's code stands, and the frame is in the shipped source.
    expect(shown.stdout).toContain('[steps] RUNNER_PLUGIN_FAILED injected failure at step 2');
    expect(shown.stdout).toMatch(/at \S*run \(.*packages\/plugins\/steps\/src\/index\.ts:\d+:\d+\)/);
  });
});

describe('a plugin module that does not parse', () => {
  test('is named with file, line and column, exit 2', async () => {
    const dir = project({
      'plugins/broken.ts': 'export default {\n  name: "broken"\n  version: "1.0.0",\n};\n',
      'job.yaml': 'name: b\nplugins: [./plugins/broken.ts]\nstages:\n  - { id: c, plugin: broken }\n',
    });
    const r = await runCli(['validate', 'job.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`job.yaml:2:11  plugins[0]: ${join(dir, 'plugins/broken.ts')}:3:3:`);
  });
});
