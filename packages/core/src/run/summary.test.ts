import { describe, expect, test } from 'vitest';
import type { TaskRecord } from '../store/types.js';
import { TaskGraph } from './graph/task-graph.js';
import type { PlannedTask } from './plan.js';
import { summarizeRun } from './summary.js';

function graph(states: Record<string, string>, eligible: (id: string) => boolean = () => true): TaskGraph {
  const tasks = Object.keys(states).map((id) => ({ id, stage: 'a', needs: [], stageDef: { index: 0, resources: {}, retries: { max: 0, backoff: { initialMs: 1, factor: 2, maxMs: 1 } } } }) as unknown as PlannedTask);
  const g = new TaskGraph(tasks, { dependents: new Map(), eligible });
  g.load(Object.entries(states).map(([id, s]) => [id, [s as 'pending', 0, '']]));
  return g;
}

const noTask = () => undefined;

describe('summary: the exit code', () => {
  test('0 when every task completed; 1 when one failed; the failures are listed', () => {
    expect(summarizeRun({ name: 'r', nodes: graph({ 'a/1': 'completed' }).nodes, getTask: noTask, stopping: false, durationMs: 5 }).exitCode).toBe(0);
    const s = summarizeRun({ name: 'r', nodes: graph({ 'a/1': 'completed', 'a/2': 'failed' }).nodes, getTask: noTask, stopping: false, durationMs: 5 });
    expect(s).toMatchObject({ exitCode: 1, failed: ['a/2'], interrupted: false, durationMs: 5 });
  });

  test('2 when every failure is bad input (the spec’s or its data’s fault)', () => {
    const getTask = (id: string) => ({ id, error: { name: 'Error', message: 'x', code: 'RUNNER_PLUGIN_FAILED', cause: { name: 'Error', message: 'bad', badInput: true } } }) as unknown as TaskRecord;
    const s = summarizeRun({ name: 'r', nodes: graph({ 'a/1': 'failed' }).nodes, getTask, stopping: false, durationMs: 1 });
    expect(s.exitCode).toBe(2);
  });

  test('130 when interrupted, 1 when the runner itself failed', () => {
    expect(summarizeRun({ name: 'r', nodes: graph({ 'a/1': 'pending' }).nodes, getTask: noTask, stopping: true, durationMs: 1 })).toMatchObject({ exitCode: 130, interrupted: true });
    const fatal = { name: 'RunnerError', message: 'store unwritable', code: 'RUNNER_STORE_UNWRITABLE' };
    expect(summarizeRun({ name: 'r', nodes: graph({ 'a/1': 'pending' }).nodes, getTask: noTask, stopping: true, fatal, durationMs: 1 })).toMatchObject({ exitCode: 1, interrupted: false, error: fatal });
  });

  test('with --only, success means the selected tasks completed', () => {
    const nodes = graph({ 'a/1': 'completed', 'a/2': 'pending' }, (id) => id === 'a/1').nodes;
    expect(summarizeRun({ name: 'r', nodes, getTask: noTask, stopping: false, durationMs: 1 }).exitCode).toBe(0);
  });
});
