import type { TaskGraph } from './task-graph.js';

/** One timer for the graph's delayed nodes: it fires at the earliest retry time, queues what is due and calls `onDue`. */
export class RetryTimer {
  private timer?: NodeJS.Timeout;

  constructor(private readonly onDue: () => void) {}

  arm(graph: TaskGraph): void {
    this.stop();
    const next = graph.nextDueAt();
    if (next === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      graph.releaseDue();
      this.arm(graph);
      this.onDue();
    }, Math.max(0, next - Date.now()));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
