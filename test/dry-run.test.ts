/**
 * `runner plan` / `runner start --dry-run`: what a start would do and why, per stage, without
 * writing anything (the store's bytes stay the same; no store appears before the first start).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, runCli, tempProject } from '@runner/test-helpers/cli';

const spec = (o: { steps?: number; seed?: number; cycle?: number } = {}) => `name: pl
matrix: { s: [a, b] }
cycle: ${o.cycle ?? 1}
pool: { threads: 2 }
stages:
  - { id: work, plugin: steps, options: { steps: ${o.steps ?? 20}, seed: ${o.seed ?? 0}, checkpointEvery: 5 } }
  - { id: after, plugin: steps, needs: [work], options: { steps: 3 } }
`;

const storeHash = (dir: string) => createHash('sha256').update(readFileSync(join(dir, 'runs/pl/store.mdb'))).digest('hex');

describe('runner plan', () => {
  test('before, after and between runs: new, complete, rerun with the changed keys, new cycle; nothing written', async () => {
    const dir = tempProject({ 'job.yaml': spec() });
    const fresh = await cliJson(['plan', 'job.yaml'], { cwd: dir });
    expect(fresh).toMatchObject({ started: false, willRun: 4 });
    expect(fresh.stages[0].tasks[0]).toEqual({ id: 'work/s=a/cycle=1', action: 'new', reason: 'the run has not started' });
    expect(existsSync(join(dir, 'runs'))).toBe(false);

    expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(0);
    const before = storeHash(dir);
    const done = await cliJson(['plan', 'job.yaml'], { cwd: dir });
    expect(done.willRun).toBe(0);
    expect(done.stages.map((s: any) => s.counts.complete)).toEqual([2, 2]);

    writeFileSync(join(dir, 'job.yaml'), spec({ seed: 7 }));
    const changed = await cliJson(['plan', 'job.yaml'], { cwd: dir });
    expect(changed.stages[0].changedKeys).toEqual(['seed']);
    expect(changed.stages[0].tasks[0]).toEqual({ id: 'work/s=a/cycle=1', action: 'rerun', reason: 'its options changed', keys: ['seed'] });
    expect(changed.stages[1].tasks[1]).toEqual({ id: 'after/s=b/cycle=1', action: 'rerun', reason: 'upstream work/s=b/cycle=1 reruns' });

    writeFileSync(join(dir, 'job.yaml'), spec({ steps: 40 }));
    const raised = await cliJson(['plan', 'job.yaml'], { cwd: dir });
    expect(raised.stages[0].tasks[0]).toMatchObject({ action: 'rerun', reason: 'a resume-safe target changed; it resumes from its last checkpoint' });
    expect(raised.stages[0].changedKeys).toEqual(['steps']);
    const text = await runCli(['start', 'job.yaml', '--dry-run'], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('pl: dry run, nothing written.');
    expect(text.stdout).toContain('work: options changed: steps');
    expect(text.stdout).toMatch(/would rerun +work\/s=a\/cycle=1 +a resume-safe target changed/);
    expect(text.stdout).toMatch(/4 tasks would run: .*start job\.yaml/);

    writeFileSync(join(dir, 'job.yaml'), spec({ cycle: 2 }));
    const cycle = await cliJson(['start', 'job.yaml', '--dry-run'], { cwd: dir });
    expect(cycle.stages[0].tasks.map((t: any) => [t.id, t.action, t.reason])).toEqual([
      ['work/s=a/cycle=2', 'new', 'new cycle 2'],
      ['work/s=b/cycle=2', 'new', 'new cycle 2'],
    ]);
    expect(storeHash(dir)).toBe(before);
  });

  test('cancelled work and what it blocks', async () => {
    const dir = tempProject({ 'job.yaml': spec() });
    expect((await runCli(['cancel', 'job.yaml', 'work/s=a/cycle=1'], { cwd: dir })).code).not.toBe(0);
    expect((await runCli(['start', 'job.yaml', '--only', 'work/s=b*'], { cwd: dir })).code).toBe(0);
    expect((await runCli(['cancel', 'job.yaml', 'work/s=a/cycle=1'], { cwd: dir })).code).toBe(0);
    const p = await cliJson(['plan', 'job.yaml'], { cwd: dir });
    expect(p.stages[0].tasks).toEqual([
      { id: 'work/s=a/cycle=1', action: 'cancelled', reason: 'not run: cancelled (`runner resume` first)' },
      { id: 'work/s=b/cycle=1', action: 'complete' },
    ]);
    expect(p.stages[1].tasks[0]).toEqual({ id: 'after/s=a/cycle=1', action: 'blocked', reason: 'needs work/s=a/cycle=1, which is cancelled' });
    expect(p.stages[1].tasks[1]).toEqual({ id: 'after/s=b/cycle=1', action: 'run' });
    expect(p.willRun).toBe(1);
  });
});
