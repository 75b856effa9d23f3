/**
 * events.jsonl is written in batches; a kill -9 right after a checkpoint commits loses the batch.
 * The next start appends what the store committed and the file lacks, once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliJson, runCli, spawnCli, tempProject, waitFor } from '@runner/test-helpers/cli';

function lines(dir: string, name: string): any[] {
  let text = '';
  try {
    text = readFileSync(join(dir, 'runs', name, 'events.jsonl'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
}

describe('events.jsonl after a kill -9', () => {
  test('the checkpoint committed just before the kill is in the file exactly once after a restart, and so is every other', async () => {
    const dir = tempProject({
      'job.yaml': `name: evlog
stages:
  - { id: w, plugin: steps, options: { steps: 60, stepMs: 20, checkpointEvery: 20 } }
`,
    });
    const run = spawnCli(['start', 'job.yaml', '--plain', '--verbose'], { cwd: dir });
    // The display prints the checkpoint line when the runner hears of the committed checkpoint.
    await waitFor(() => /checkpoint w\S* #1 /.test(run.output()), 120_000, 'the first checkpoint');
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    const before = lines(dir, 'evlog').filter((l) => l.type === 'task:checkpoint' && l.seq === 1).length;
    expect(before).toBeLessThanOrEqual(1);

    const again = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    if (before === 0) expect(again.stdout).toMatch(/committed events? missing from events\.jsonl .* appended from the store/);
    const all = lines(dir, 'evlog');
    const cps = all.filter((l) => l.type === 'task:checkpoint');
    expect(cps.filter((l) => l.seq === 1)).toHaveLength(1);
    expect(cps.filter((l) => l.seq === 1)[0].recovered ?? false).toBe(before === 0);
    // Every committed checkpoint is in the file exactly once.
    // Every committed checkpoint is in the file exactly once: the task handed out seqs 1..N.
    const [task] = await cliJson<any[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(task.state).toBe('completed');
    const fileSeqs = cps.map((l) => l.seq).sort((a: number, b: number) => a - b);
    expect(fileSeqs).toEqual(Array.from({ length: task.lastCheckpoint.seq }, (_, i) => i + 1));
    // A third start with nothing lost adds nothing.
    const n = all.length;
    const third = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
    expect(third.code).toBe(0);
    expect(third.stdout).not.toMatch(/missing from events\.jsonl/);
    expect(lines(dir, 'evlog').filter((l) => l.recovered).length).toBe(all.filter((l) => l.recovered).length);
    expect(lines(dir, 'evlog').length).toBeGreaterThan(n - 1);
  }, 300_000);
});
