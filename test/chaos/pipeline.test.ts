/**
 * The quick-start pipeline (scaled down) under chaos: SIGKILL during startup, right after
 * checkpoints, inside a retried trial and at random moments; a reboot (lock files gone); a
 * second runner on the same run. Every artifact, result, study and count must equal an
 * uninterrupted run's, byte for byte. `pnpm bench chaos` runs the long version.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
// @ts-expect-error: plain ESM module shared with bench/chaos
import { diffSnapshots, removeLockFiles, REPO, rng, runUntilDone, snapshotRun, startRunner } from './harness.mjs';
// @ts-expect-error: plain ESM module shared with bench/chaos
import { CHAOS_SET } from './scale.mjs';

const SPEC = readFileSync(join(REPO, 'configs/quickstart.yaml'), 'utf8');
const ARGS = ['job.yaml', '-v', ...CHAOS_SET];

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'chaos', private: true }));
  writeFileSync(join(dir, 'job.yaml'), SPEC);
  return dir;
}

type Trigger = { kind: string; match?: RegExp; nth?: number } | null;

describe('the whole pipeline under chaos', () => {
  test('killed at startup, after checkpoints, inside a retried trial and at random: identical to an uninterrupted run', async () => {
    const clean = project();
    const first = await runUntilDone({ cwd: clean, args: ARGS, schedule: () => null });
    expect(first.kills).toBe(0);
    const expected = await snapshotRun(clean, 'job.yaml', 'quickstart', CHAOS_SET);
    expect(expected.counts.completed).toBe(expected.counts.total);

    const dir = project();
    const r = rng(11);
    const plan: Trigger[] = [
      { kind: 'startup' },
      { kind: 'line', match: /checkpoint/, nth: 2 },
      // Inside a retried trial, or a task resuming from its checkpoint (whichever the last kill left).
      { kind: 'line', match: /is retried with the same parameters|resuming from/, nth: 1 },
      { kind: 'lines', nth: 10 + Math.floor(r() * 30) },
      { kind: 'startup' },
      { kind: 'line', match: /checkpoint/, nth: 1 + Math.floor(r() * 4) },
      { kind: 'lines', nth: 20 + Math.floor(r() * 40) },
    ];
    const seen: string[] = [];
    const chaos = await runUntilDone({
      cwd: dir,
      args: ARGS,
      schedule: (i: number) => plan[i] ?? null,
      onRun: (run: { trigger: string; killed: boolean }) => {
        seen.push(`${run.trigger}${run.killed ? ' → killed' : ''}`);
        // The fourth death is a reboot: nothing of the old processes' locks survives.
        if (seen.length === 4) removeLockFiles(dir, 'quickstart');
      },
    });
    // A trigger that never fires lets its run complete; at least five must have landed.
    expect(chaos.kills, seen.join('\n')).toBeGreaterThanOrEqual(5);
    const got = await snapshotRun(dir, 'job.yaml', 'quickstart', CHAOS_SET);
    expect(diffSnapshots(expected, got), seen.join('\n')).toEqual([]);
  }, 600_000);

  test('a second runner on the same run while the first is alive: they share the work, the result is the same', async () => {
    const clean = project();
    await runUntilDone({ cwd: clean, args: ARGS, schedule: () => null });
    const expected = await snapshotRun(clean, 'job.yaml', 'quickstart', CHAOS_SET);

    const dir = project();
    const a = startRunner(dir, ARGS);
    // The second starts once the first has committed a checkpoint: both are then mid-run.
    await Promise.race([new Promise<void>((res) => a.onText(() => /checkpoint/.test(a.output()) && res())), a.done]);
    const b = startRunner(dir, ARGS);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.output.slice(-2000)).toBe(0);
    expect(rb.code, rb.output.slice(-2000)).toBe(0);
    const got = await snapshotRun(dir, 'job.yaml', 'quickstart', CHAOS_SET);
    expect(diffSnapshots(expected, got)).toEqual([]);
  }, 600_000);
});
