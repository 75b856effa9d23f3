/** How a run ended, from the graph's final states: counts, failures, and the exit code. */
import type { SerializedError } from '../errors.js';
import { isBadInput } from '../errors.js';
import type { StateCounts, TaskRecord } from '../store/types.js';
import { blockedNodes, countStates } from './graph/blocked.js';
import type { GraphNode } from './graph/task-graph.js';

export interface RunSummary {
  name: string;
  exitCode: number;
  counts: StateCounts;
  /** Pending tasks that cannot run because something they need failed or was cancelled. */
  blocked: number;
  failed: string[];
  durationMs: number;
  interrupted: boolean;
  /** A runner-level failure, e.g. the store became unwritable. */
  error?: SerializedError;
}

export interface EndFacts {
  name: string;
  nodes: ReadonlyMap<string, GraphNode>;
  getTask: (id: string) => TaskRecord | undefined;
  stopping: boolean;
  fatal?: SerializedError;
  durationMs: number;
}

/**
 * Exit codes: 1 for a runner-level failure, 130 when interrupted, 0 when every task this runner
 * may run (`--only`) completed, 2 when every failure is bad input (the spec's or its data's
 * fault, like a bad spec), else 1.
 */
export function summarizeRun(f: EndFacts): RunSummary {
  const nodes = [...f.nodes.values()];
  const counts = countStates(f.nodes);
  const failed = nodes.filter((n) => n.state === 'failed').map((n) => n.t.id);
  const blocked = blockedNodes(f.nodes).size;
  const interrupted = f.stopping && !f.fatal;
  const all = nodes.every((n) => !n.eligible || n.state === 'completed');
  const badInput = failed.length > 0 && failed.every((id) => isBadInput(f.getTask(id)?.error));
  const exitCode = f.fatal ? 1 : interrupted ? 130 : all ? 0 : badInput ? 2 : 1;
  return { name: f.name, exitCode, counts, blocked, failed, durationMs: f.durationMs, interrupted, error: f.fatal };
}
