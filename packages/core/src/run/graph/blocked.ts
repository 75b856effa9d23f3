/** Counting over the graph: what is blocked by a failure, what is left to run, tasks per state. */
import { emptyCounts, type StateCounts } from '../../store/types.js';
import type { GraphNode } from './task-graph.js';

/** Pending nodes that need, directly or further up, something failed or cancelled. */
export function blockedNodes(nodes: ReadonlyMap<string, GraphNode>): Set<GraphNode> {
  const memo = new Map<GraphNode, boolean>();
  const isBlocked = (n: GraphNode): boolean => {
    const m = memo.get(n);
    if (m !== undefined) return m;
    memo.set(n, false);
    const b = n.t.needs.some((id) => {
      const d = nodes.get(id);
      return !!d && (d.state === 'failed' || d.state === 'cancelled' || (d.state === 'pending' && isBlocked(d)));
    });
    memo.set(n, b);
    return b;
  };
  const out = new Set<GraphNode>();
  for (const n of nodes.values()) if (n.state === 'pending' && n.waiting > 0 && isBlocked(n)) out.add(n);
  return out;
}

/** Per stage, the tasks this runner may still run: pending or running, eligible, not blocked. */
export function toRunByStage(nodes: ReadonlyMap<string, GraphNode>, stageIds: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of stageIds) out[s] = 0;
  const blocked = blockedNodes(nodes);
  for (const n of nodes.values()) {
    if ((n.state === 'pending' || n.state === 'running') && n.eligible && !blocked.has(n)) out[n.t.stage] = (out[n.t.stage] ?? 0) + 1;
  }
  return out;
}

export function countStates(nodes: ReadonlyMap<string, GraphNode>): StateCounts {
  const c = emptyCounts();
  for (const n of nodes.values()) c[n.state]++;
  return c;
}
