import { describe, expect, test } from 'vitest';
import type { PlannedTask } from '../plan.js';
import { blockedNodes, countStates, toRunByStage } from './blocked.js';
import { TaskGraph } from './task-graph.js';

function task(id: string, stageIndex: number, needs: string[] = []): PlannedTask {
  return { id, stage: id.split('/')[0]!, needs, cell: {}, cycle: 1, stageDef: { index: stageIndex, resources: {}, retries: { max: 0, backoff: { initialMs: 10, factor: 2, maxMs: 60_000 } } } } as unknown as PlannedTask;
}

function loaded(tasks: PlannedTask[], states: [string, string][]): TaskGraph {
  const dependents = new Map<string, string[]>();
  for (const t of tasks) for (const n of t.needs) dependents.set(n, [...(dependents.get(n) ?? []), t.id]);
  const g = new TaskGraph(tasks, { dependents });
  g.load(states.map(([id, s]) => [id, [s as 'pending', 0, '']]));
  return g;
}

describe('graph: blocked tasks and what is left to run', () => {
  test('a pending task is blocked when something it needs, directly or further up, failed or was cancelled', () => {
    const g = loaded(
      [task('a/1', 0), task('a/2', 0), task('b/1', 1, ['a/1']), task('c/1', 2, ['b/1']), task('b/2', 1, ['a/2'])],
      [['a/1', 'failed']],
    );
    expect([...blockedNodes(g.nodes)].map((n) => n.t.id).sort()).toEqual(['b/1', 'c/1']);
    const cancelled = loaded([task('a/1', 0), task('b/1', 1, ['a/1'])], [['a/1', 'cancelled']]);
    expect(blockedNodes(cancelled.nodes).size).toBe(1);
  });

  test('to run per stage counts pending and running tasks that are not blocked; every stage is listed', () => {
    const g = loaded([task('a/1', 0), task('a/2', 0), task('b/1', 1, ['a/1']), task('b/2', 1, ['a/2'])], [['a/1', 'failed'], ['a/2', 'running']]);
    expect(toRunByStage(g.nodes, ['a', 'b', 'c'])).toEqual({ a: 1, b: 1, c: 0 });
  });

  test('states are counted over every node', () => {
    const g = loaded([task('a/1', 0), task('a/2', 0), task('a/3', 0)], [['a/1', 'completed'], ['a/2', 'failed']]);
    expect(countStates(g.nodes)).toMatchObject({ completed: 1, failed: 1, pending: 1, running: 0, cancelled: 0 });
  });
});
