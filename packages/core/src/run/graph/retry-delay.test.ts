import { describe, expect, test } from 'vitest';
import type { PlannedTask } from '../plan.js';
import { TaskGraph } from './task-graph.js';

const MAX_BACKOFF = 60_000;

function task(id: string): PlannedTask {
  return { id, stage: 'a', needs: [], cell: {}, cycle: 1, stageDef: { index: 0, resources: {}, retries: { max: 3, backoff: { initialMs: 10, factor: 2, maxMs: MAX_BACKOFF } } } } as unknown as PlannedTask;
}

describe('graph: a task waiting out its retry backoff', () => {
  test('is parked until its retry time, then queued', () => {
    let now = 1_000;
    let armed = 0;
    const g = new TaskGraph([task('a/1'), task('a/2')], { dependents: new Map(), now: () => now, onDelayed: () => armed++ });
    g.load([['a/1', ['pending', 6_000, '']]]);
    expect(armed).toBe(1);
    expect(g.nextDueAt()).toBe(6_000);
    expect(g.popReady(() => true)?.t.id).toBe('a/2');
    expect(g.popReady(() => true)).toBeUndefined();
    now = 5_999;
    g.releaseDue();
    expect(g.hasReady()).toBe(false);
    now = 6_000;
    g.releaseDue();
    expect(g.delayed.size).toBe(0);
    expect(g.nextDueAt()).toBe(Infinity);
    expect(g.popReady(() => true)?.t.id).toBe('a/1');
  });

  test('a stored retry time further off than the backoff allows (the wall clock jumped back) is capped', () => {
    const now = 1_000;
    const g = new TaskGraph([task('a/1')], { dependents: new Map(), now: () => now });
    g.load([['a/1', ['pending', now + 10 * MAX_BACKOFF, '']]]);
    expect(g.nodes.get('a/1')!.retryAt).toBe(now + MAX_BACKOFF);
  });

  test('a retry time already past queues the task at once', () => {
    const g = new TaskGraph([task('a/1')], { dependents: new Map(), now: () => 10_000 });
    g.load([['a/1', ['pending', 9_000, '']]]);
    expect(g.delayed.size).toBe(0);
    expect(g.hasReady()).toBe(true);
  });

  test('closing with dropDelayed forgets parked tasks (a runner that may no longer write)', () => {
    const g = new TaskGraph([task('a/1')], { dependents: new Map(), now: () => 0 });
    g.load([['a/1', ['pending', 5_000, '']]]);
    g.close();
    expect(g.delayed.size).toBe(1);
    g.close(true);
    expect(g.delayed.size).toBe(0);
  });
});
