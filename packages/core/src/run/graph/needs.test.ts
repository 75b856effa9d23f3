import { describe, expect, test } from 'vitest';
import type { PlannedTask } from '../plan.js';
import { TaskGraph } from './task-graph.js';

function task(id: string, stageIndex: number, needs: string[] = []): PlannedTask {
  return { id, stage: id.split('/')[0]!, needs, cell: {}, cycle: 1, stageDef: { index: stageIndex, resources: {}, retries: { max: 0, backoff: { initialMs: 10, factor: 2, maxMs: 60_000 } } } } as unknown as PlannedTask;
}

function graphOf(tasks: PlannedTask[]): TaskGraph {
  const dependents = new Map<string, string[]>();
  for (const t of tasks) for (const n of t.needs) dependents.set(n, [...(dependents.get(n) ?? []), t.id]);
  return new TaskGraph(tasks, { dependents });
}

const all = () => true;

describe('graph: needs', () => {
  test('a fan-in task waits for every task it needs and is queued when the last completes', () => {
    const g = graphOf([task('a/1', 0), task('a/2', 0), task('gather/1', 1, ['a/1', 'a/2'])]);
    g.load([]);
    const gather = g.nodes.get('gather/1')!;
    expect(gather.waiting).toBe(2);
    g.setState(g.nodes.get('a/1')!, 'completed');
    expect(gather.waiting).toBe(1);
    expect(gather.queued).toBe(false);
    g.setState(g.nodes.get('a/2')!, 'completed');
    expect(gather.waiting).toBe(0);
    expect(gather.queued).toBe(true);
  });

  test('stored states count: a need completed in an earlier run is met at load', () => {
    const g = graphOf([task('a/1', 0), task('b/1', 1, ['a/1'])]);
    g.load([['a/1', ['completed', 0, '']]]);
    expect(g.nodes.get('b/1')!.waiting).toBe(0);
    expect(g.popReady(all)?.t.id).toBe('b/1');
  });

  test('a completed need that is reopened (another runner reset it) makes its dependents wait again', () => {
    const g = graphOf([task('a/1', 0), task('b/1', 1, ['a/1'])]);
    g.load([['a/1', ['completed', 0, '']]]);
    g.setState(g.nodes.get('a/1')!, 'pending');
    expect(g.nodes.get('b/1')!.waiting).toBe(1);
    expect(g.popReady(all)?.t.id).toBe('a/1');
    expect(g.popReady(all)).toBeUndefined();
  });

  test('stored states of tasks no longer planned are ignored', () => {
    const g = graphOf([task('a/1', 0)]);
    g.load([['gone/1', ['completed', 0, '']]]);
    expect([...g.nodes.keys()]).toEqual(['a/1']);
  });
});
