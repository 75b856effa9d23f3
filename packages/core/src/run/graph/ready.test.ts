import { describe, expect, test } from 'vitest';
import type { PlannedTask } from '../plan.js';
import { TaskGraph } from './task-graph.js';

/** A planned task with what the graph reads: id, stage and its index, needs, resources, backoff cap. */
function task(id: string, stageIndex: number, needs: string[] = [], gpu?: number): PlannedTask {
  const stage = id.split('/')[0]!;
  return { id, stage, needs, cell: {}, cycle: 1, stageDef: { index: stageIndex, resources: gpu ? { gpu } : {}, retries: { max: 0, backoff: { initialMs: 10, factor: 2, maxMs: 60_000 } } } } as unknown as PlannedTask;
}

function graphOf(tasks: PlannedTask[]): TaskGraph {
  const dependents = new Map<string, string[]>();
  for (const t of tasks) for (const n of t.needs) dependents.set(n, [...(dependents.get(n) ?? []), t.id]);
  return new TaskGraph(tasks, { dependents });
}

const all = () => true;

describe('graph: ready queues', () => {
  test('tasks with no unmet needs are ready, in plan order within a stage', () => {
    const g = graphOf([task('a/1', 0), task('a/2', 0), task('b/1', 1, ['a/1'])]);
    g.load([]);
    expect(g.popReady(all)?.t.id).toBe('a/1');
    expect(g.popReady(all)?.t.id).toBe('a/2');
    expect(g.popReady(all)).toBeUndefined();
  });

  test('later stages go first, so cells finish early', () => {
    const g = graphOf([task('a/1', 0), task('a/2', 0), task('b/1', 1, ['a/1'])]);
    g.load([['a/1', ['completed', 0, '']]]);
    expect(g.popReady(all)?.t.id).toBe('b/1');
    expect(g.popReady(all)?.t.id).toBe('a/2');
  });

  test('a task whose resources do not fit is skipped, not dropped', () => {
    const g = graphOf([task('a/1', 0, [], 2), task('a/2', 0)]);
    g.load([]);
    expect(g.popReady((r) => (r.gpu ?? 0) === 0)?.t.id).toBe('a/2');
    expect(g.popReady(all)?.t.id).toBe('a/1');
  });

  test('completed, failed and running tasks are not queued; a task that stopped being runnable while queued is dropped when popped', () => {
    const g = graphOf([task('a/1', 0), task('a/2', 0), task('a/3', 0), task('a/4', 0)]);
    g.load([['a/1', ['completed', 0, '']], ['a/2', ['failed', 0, '']], ['a/3', ['running', 0, '']]]);
    const n = g.nodes.get('a/4')!;
    n.state = 'cancelled';
    expect(g.popReady(all)).toBeUndefined();
    expect(n.queued).toBe(false);
    expect(g.hasReady()).toBe(false);
  });

  test('tasks the only-filter excludes are never queued', () => {
    const tasks = [task('a/1', 0), task('a/2', 0)];
    const g = new TaskGraph(tasks, { dependents: new Map(), eligible: (id) => id === 'a/2' });
    g.load([]);
    expect(g.popReady(all)?.t.id).toBe('a/2');
    expect(g.popReady(all)).toBeUndefined();
  });

  test('pending tasks with a checkpoint go ahead of fresh ones in their stage', () => {
    const g = graphOf([task('a/1', 0), task('a/2', 0), task('a/3', 0)]);
    g.load([], () => new Set(['a/3']));
    expect(g.popReady(all)?.t.id).toBe('a/3');
  });

  test('a task resumed while queued moves to the front of its stage', () => {
    const g = graphOf([task('a/1', 0), task('a/2', 0)]);
    g.load([]);
    g.moveToFront(g.nodes.get('a/2')!);
    expect(g.popReady(all)?.t.id).toBe('a/2');
  });

  test('once closed (the run stops) nothing is queued any more', () => {
    const g = graphOf([task('a/1', 0), task('b/1', 1, ['a/1'])]);
    g.load([]);
    g.close();
    expect(g.hasReady()).toBe(false);
    g.setState(g.nodes.get('a/1')!, 'completed');
    expect(g.popReady(all)).toBeUndefined();
  });
});
