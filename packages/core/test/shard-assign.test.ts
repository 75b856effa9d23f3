import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { specFixture } from '@runner/test-helpers/fixtures';
import { loadJobSpec } from '../src/config/load.js';
import { planRun } from '../src/run/plan.js';
import { resolveShardArg, resolveShardKey, shardOfCell, shardPlan, splitPlan, stageRoles } from '../src/shard/assign.js';

async function load(yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'runner-shard-'));
  writeFileSync(join(dir, 'package.json'), '{}');
  writeFileSync(join(dir, 'job.yaml'), yaml);
  return loadJobSpec(join(dir, 'job.yaml'), { cwd: dir });
}

const SPEC = `name: s
matrix: { symbol: [A, B, C, D, E, F, G, H, I, J], horizon: [1, 5] }
cycle: [1, 2]
stages:
  - { id: prep, plugin: steps, per: [] }
  - { id: download, plugin: steps, per: [symbol], needs: [prep] }
  - { id: work, plugin: steps, needs: [download] }
  - { id: byHorizon, plugin: steps, per: [horizon], needs: [work] }
  - { id: report, plugin: steps, per: [], needs: [byHorizon] }
  - { id: after, plugin: steps, needs: [report] }
`;

describe('shard assignment', () => {
  test('--shard i/N, or JOB_COMPLETION_INDEX with RUNNER_SHARD_COUNT; bad values are usage errors', () => {
    expect(resolveShardArg('2/4', {})).toEqual({ index: 2, count: 4 });
    expect(resolveShardArg(undefined, { JOB_COMPLETION_INDEX: '3', RUNNER_SHARD_COUNT: '8' })).toEqual({ index: 3, count: 8 });
    expect(resolveShardArg(undefined, { JOB_COMPLETION_INDEX: '3' })).toBeUndefined();
    expect(resolveShardArg('1/2', { JOB_COMPLETION_INDEX: '0', RUNNER_SHARD_COUNT: '2' })).toEqual({ index: 1, count: 2 });
    for (const bad of ['4/4', '1', 'a/b', '0/0']) expect(() => resolveShardArg(bad, {}), bad).toThrow(expect.objectContaining({ code: 'RUNNER_USAGE' }));
    expect(() => resolveShardArg(undefined, { RUNNER_SHARD_COUNT: '2' })).toThrow(/JOB_COMPLETION_INDEX/);
  });

  test('the shard of a cell is a fixed function of its key values (stable across processes and versions)', () => {
    // Pinned: changing the hash would move every running shard's cells.
    expect(['A', 'B', 'C', 'D', 'E', 'F'].map((s) => shardOfCell({ symbol: s, horizon: 1 }, ['symbol'], 4))).toEqual(
      ['A', 'B', 'C', 'D', 'E', 'F'].map((s) => shardOfCell({ symbol: s }, ['symbol'], 4)),
    );
    expect(['A', 'B', 'C', 'D', 'E', 'F'].map((s) => shardOfCell({ symbol: s }, ['symbol'], 4))).toMatchInlineSnapshot(`
      [
        2,
        3,
        3,
        1,
        0,
        3,
      ]
    `);
  });

  test('roles: per-cell stages shard, coarser upstream stages go with the shards that need them, fan-ins gather', async () => {
    const spec = await load(SPEC);
    expect(resolveShardKey(spec)).toEqual(['symbol']);
    expect(resolveShardKey(spec, ['horizon,symbol'])).toEqual(['symbol', 'horizon']);
    expect(() => resolveShardKey(spec, ['sector'])).toThrow(/not a matrix key/);
    expect(Object.fromEntries(stageRoles(spec, ['symbol']))).toEqual({ prep: 'upstream', download: 'cell', work: 'cell', byHorizon: 'gather', report: 'gather', after: 'gather' });
    expect(Object.fromEntries(stageRoles(spec, ['symbol', 'horizon']))).toMatchObject({ prep: 'upstream', download: 'upstream', work: 'cell', byHorizon: 'gather' });
  });

  test('every task runs in exactly one place; needs never cross shards; shard plans are self-contained', async () => {
    const spec = await load(SPEC);
    const plan = planRun(spec);
    for (const key of [['symbol'], ['symbol', 'horizon']]) {
      for (const n of [1, 3, 7]) {
        const split = splitPlan(spec, plan, key, n);
        const cellStages = key.length === 1 ? ['download', 'work'] : ['work'];
        for (const t of plan.tasks) {
          const inShards = split.shards.filter((s) => s.has(t.id)).length;
          if (cellStages.includes(t.stage)) expect(inShards, t.id).toBe(1);
          if (['byHorizon', 'report', 'after'].includes(t.stage)) {
            expect(inShards, t.id).toBe(0);
            expect(split.gather.has(t.id), t.id).toBe(true);
          }
          if (inShards > 0) expect(split.gather.has(t.id), t.id).toBe(false);
        }
        for (const [i, ids] of split.shards.entries()) {
          const sp = shardPlan(plan, ids, { index: i, count: n, key });
          for (const t of sp.tasks) for (const need of t.needs) expect(sp.byId.has(need), `${t.id} needs ${need}`).toBe(true);
          expect(sp.digest).not.toBe(plan.digest);
        }
        // Cells of one key value stay together, across stages and cycles.
        const where = new Map<string, number>();
        for (const [i, ids] of split.shards.entries()) {
          for (const id of ids) {
            if (!id.startsWith('work/')) continue;
            const k = key.map((kk) => new RegExp(`${kk}=([^/]+)`).exec(id)![1]).join('|');
            expect(where.get(k) ?? i, id).toBe(i);
            where.set(k, i);
          }
        }
      }
    }
  });

  test('a spec with no per-cell stage cannot be sharded', async () => {
    const spec = await load(specFixture('one-stage.yaml'));
    expect(() => resolveShardKey(spec)).toThrow(expect.objectContaining({ code: 'RUNNER_USAGE' }));
  });
});
