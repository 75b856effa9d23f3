/**
 * The time left of a run, from the work done per unit of time by tasks of the same stage in
 * this session: a task that resumes at 50% and reaches 60% did a tenth of a task's work, however
 * long its earlier attempts took. Stages with work left and nothing measured yet make the
 * estimate unknown, and it says which.
 */
export interface EtaResult {
  /** Milliseconds left, when every stage with work left has been measured. */
  ms?: number;
  /** Why there is no estimate. */
  unknown?: string;
}

interface Observed {
  stage: string;
  fraction0: number;
  fraction: number;
  t0: number;
}

export class StageEta {
  private readonly running = new Map<string, Observed>();
  /** Per stage: task-units done and thread-milliseconds spent on them. */
  private readonly done = new Map<string, { units: number; ms: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  start(id: string, stage: string, fraction = 0): void {
    this.running.set(id, { stage, fraction0: fraction, fraction, t0: this.now() });
  }

  progress(id: string, fraction: number): void {
    const r = this.running.get(id);
    if (r) r.fraction = Math.max(r.fraction, Math.min(1, fraction));
  }

  /** A task ended; `completed` counts its remaining fraction as done. */
  end(id: string, completed: boolean): void {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    const units = (completed ? 1 : r.fraction) - r.fraction0;
    const d = this.done.get(r.stage) ?? { units: 0, ms: 0 };
    d.units += Math.max(0, units);
    d.ms += this.now() - r.t0;
    this.done.set(r.stage, d);
  }

  /** Fraction done of a running task. */
  fraction(id: string): number {
    return this.running.get(id)?.fraction ?? 0;
  }

  /** Task-units per thread-millisecond of a stage, from finished and running tasks. */
  rate(stage: string): number | undefined {
    const now = this.now();
    let units = this.done.get(stage)?.units ?? 0;
    let ms = this.done.get(stage)?.ms ?? 0;
    for (const r of this.running.values()) {
      if (r.stage !== stage) continue;
      units += r.fraction - r.fraction0;
      ms += now - r.t0;
    }
    return units > 0 && ms >= 500 ? units / ms : undefined;
  }

  /**
   * `toRun`: per stage, tasks that will still run (pending or running); `threads`: tasks at once.
   */
  estimate(toRun: Record<string, number>, threads: number): EtaResult {
    let threadMs = 0;
    let tasksLeft = 0;
    const unmeasured: string[] = [];
    for (const [stage, n] of Object.entries(toRun)) {
      if (n <= 0) continue;
      let units = n;
      for (const r of this.running.values()) if (r.stage === stage) units -= r.fraction;
      units = Math.max(0, units);
      tasksLeft += n;
      if (units === 0) continue;
      const rate = this.rate(stage);
      if (rate === undefined) unmeasured.push(stage);
      else threadMs += units / rate;
    }
    if (tasksLeft === 0) return { ms: 0 };
    if (unmeasured.length > 0) return { unknown: `no ${unmeasured.join('/')} work measured yet` };
    return { ms: threadMs / Math.max(1, Math.min(threads, tasksLeft)) };
  }
}
