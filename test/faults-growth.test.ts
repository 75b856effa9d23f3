/** Issue 9 §4: the event log is rotated and still read whole; `runner compact` shrinks the store. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readEventLog } from '../packages/core/src/run/event-log-parts.js';
import { cliJson, runCli, tempProject } from '@runner/test-helpers/cli';

const SPEC = (n: number) => `name: grow
matrix: { s: [${Array.from({ length: n }, (_, i) => `s${i}`).join(', ')}] }
pool: { threads: 2 }
stages:
  - { id: work, plugin: steps, options: { steps: 2, stepMs: 1, checkpointEvery: 1 } }
`;

describe('growth', () => {
  test('events.jsonl is rotated into compressed parts, and every part is read back', async () => {
    const dir = tempProject({ 'job.yaml': SPEC(60) });
    const r = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir, env: { RUNNER_EVENTS_MAX_BYTES: '4000' } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const runDir = join(dir, 'runs/grow');
    const parts = readdirSync(runDir).filter((f) => /^events-\d{6}\.jsonl\.gz$/.test(f));
    // Rotation happens after a batch is written (batches are up to 512 lines or 200 ms).
    expect(parts.length).toBeGreaterThanOrEqual(1);
    const ends: string[] = [];
    let starts = 0;
    for await (const e of readEventLog(runDir)) {
      if (e.type === 'task:end') ends.push(e.id as string);
      if (e.type === 'run:start') starts++;
    }
    expect(starts).toBe(1);
    expect(new Set(ends).size).toBe(60);
    expect(ends).toHaveLength(60);
  }, 60_000);

  test('`runner compact` shrinks a store after a reset and rerun, keeping every record', async () => {
    const dir = tempProject({ 'job.yaml': SPEC(300) });
    expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(0);
    expect((await runCli(['reset', 'job.yaml', '--force'], { cwd: dir })).code).toBe(0);
    expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(0);
    const before = await cliJson<{ id: string; state: string; result: unknown }[]>(['tasks', 'job.yaml'], { cwd: dir });
    const r = await cliJson<{ before: number; after: number }>(['compact', 'job.yaml'], { cwd: dir });
    expect(r.after).toBeLessThan(r.before);
    expect(statSync(join(dir, 'runs/grow/store.mdb')).size).toBe(r.after);
    const after = await cliJson<{ id: string; state: string; result: unknown }[]>(['tasks', 'job.yaml'], { cwd: dir });
    expect(after).toEqual(before);
    // And the run still works on the compacted store.
    expect((await runCli(['start', 'job.yaml'], { cwd: dir })).code).toBe(0);
  }, 120_000);
});
