/** The facts of an attempt that the outcome rules look at, gathered from the runner's view of the task. */
import type { ExecOutcome } from '../../worker/protocol.js';
import type { Active } from '../active.js';
import { environmentFault } from '../environment-fault.js';
import type { AttemptFacts } from './classify.js';

export function attemptFacts(a: Active, outcome: ExecOutcome, runMs: number, run: { runDir: string; stopping: boolean }): AttemptFacts {
  const rec = a.record;
  return {
    taskId: a.id,
    stage: a.stage?.id ?? rec.stage,
    plugin: a.plugin.name,
    outcome,
    runMs,
    cancelKind: a.cancelKind,
    cancelReason: a.cancelReason,
    environmentFault: outcome.ok ? undefined : environmentFault(outcome.error, run.runDir),
    quarantine: rec.quarantine,
    suspectDeaths: rec.suspect?.deaths,
    timeoutMs: a.stage?.timeoutMs,
    retries: a.stage?.retries,
    retriesUsed: rec.retriesUsed ?? 0,
    stopping: run.stopping,
    now: Date.now(),
  };
}
