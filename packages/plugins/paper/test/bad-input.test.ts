/**
 * Bad input through the real CLI: a spec error is caught at load time with file:line:col and the
 * backtester's own rule; a feed that names no upstream stage fails the task with PAPER_CONFIG and
 * the run exits 2; nothing is written to the ledger. Needs `pnpm build`.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { runCli } from '@runner/test-helpers/cli';
import { job, paperTask, project } from './helpers.js';

const projects: string[] = [];
afterAll(() => {
  for (const p of projects) rmSync(p, { recursive: true, force: true });
});

test('fast >= slow is refused at load time with the line; an unknown feed.from fails the task with PAPER_CONFIG, exit 2', async () => {
  const dir = await project('paper-bad', '{ type: replay, from: nope, speed: max }');
  projects.push(dir);
  writeFileSync(join(dir, 'slow.yaml'), job('paper-bad2', '{ type: replay, from: download }').replace('fast: 3, slow: 8', 'fast: 9, slow: 8'));
  const v = await runCli(['validate', 'slow.yaml'], { cwd: dir });
  expect(v.code).toBe(2);
  expect(v.stderr + v.stdout).toMatch(/slow\.yaml:\d+:\d+\s+stages\[1\]\.options\.strategy\.fast: fast \(9\) must be below slow \(8\)/);

  const r = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
  expect(r.code, r.stdout + r.stderr).toBe(2);
  const t = await paperTask(dir);
  expect(t.state).toBe('failed');
  // The core wraps plugin errors (RUNNER_PLUGIN_FAILED, the plugin's error as cause, its badInput kept).
  expect((t as any).error.code).toBe('RUNNER_PLUGIN_FAILED');
  expect((t as any).error.cause.code).toBe('PAPER_CONFIG');
  expect((t as any).error.message).toContain('feed.from is "nope"');
});
