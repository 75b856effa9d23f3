/**
 * The hpo stage: one study per task (matrix cell × cycle), stored in the run store, whose trials
 * run the objective stage's plugin as child tasks with the trial's parameters.
 */
import type { TaskContext } from '@runner/core';
import { HpoError } from '../errors.js';
import { parseSpace, type ParamValue, type SpaceConfig, type SpaceIssue } from '../space.js';
import { keys } from '../storage.js';
import { createStudy, type Trial } from '../study.js';
import type { Direction, PrunerConfig, SamplerConfig, StudyMeta, StudyStorage } from '../types.js';

export interface HpoOptions {
  trials: number;
  parallel: number;
  direction: Direction;
  timeout?: number;
  studyName?: string;
  sampler: SamplerConfig;
  pruner: PrunerConfig;
  warmStart: { fromCycle: 'previous' | 'none' | number; topK: number; history: boolean };
  space: SpaceConfig;
  objective: { stage?: string; plugin?: string; metric: string; options: Record<string, unknown>; event: string };
  onSpaceChange: 'error' | 'new-study';
  retryInterrupted: number;
  maxConsecutiveFailures: number;
}

/** What an hpo task returns (stored in the run store; a stage that `needs: [hpo]` reads it). */
export interface HpoResult {
  /** The study's name (and storage key, `<name>#<generation>` after a space change). */
  study: string;
  studyKey: string;
  direction: Direction;
  bestParams: Record<string, ParamValue>;
  bestValue: number;
  bestTrial: number;
  trials: { complete: number; pruned: number; failed: number; total: number };
  /** The target it ran to. */
  target: number;
  stopped: 'target' | 'timeout' | 'grid-exhausted';
  metric: string;
  sampler: string;
  warmStart?: { from: string; enqueued: number; history: boolean };
}

/** Problems in the options that JSON schema cannot express, at paths relative to the options. */
export function validateHpoOptions(options: { space?: SpaceConfig }): { path: (string | number)[]; message: string; hint?: string }[] {
  if (!options?.space) return [];
  return parseSpace(options.space).issues.map((i: SpaceIssue) => ({ path: ['space', ...i.path], message: i.message, hint: i.hint }));
}

function spaceError(stage: string, issues: ReturnType<typeof validateHpoOptions>): HpoError {
  const at = (p: (string | number)[]) => `stages[${stage}].options.` + p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
  const text = issues.map((i) => `${at(i.path)}: ${i.message}${i.hint ? ` (${i.hint})` : ''}`).join('; ');
  return new HpoError('HPO_SPACE_INVALID', `invalid search space: ${text}. Fix the job spec and run again.`, {
    retryable: false,
    issues: issues.map((i) => ({ path: at(i.path), message: i.message, ...(i.hint ? { hint: i.hint } : {}) })),
    hint: 'Fix the search space in the job spec, then run `runner start` again.',
  });
}

/** The task id without its cycle: the cell a study series belongs to. */
export function cellKeyOf(taskId: string): string {
  return taskId.replace(/\/cycle=[^/]*$/, '');
}

/** The study of an earlier cycle of the same cell, if one was recorded. */
export function previousStudy(db: StudyStorage, cell: string, cycle: number, from: 'previous' | number): string | undefined {
  if (typeof from === 'number') return db.get<string>(keys.cell(cell, from));
  let found: string | undefined;
  for (const { value } of db.range<string>({ start: keys.cell(cell, -Number.MAX_VALUE), end: keys.cell(cell, cycle) })) found = value;
  return found;
}

function metricOf(result: unknown, metric: string): number | undefined {
  const r = result as { metrics?: Record<string, unknown> } & Record<string, unknown>;
  const v = r?.metrics?.[metric] ?? r?.[metric];
  return typeof v === 'number' ? v : undefined;
}

function fmt(v: number | undefined): string {
  if (v === undefined) return '-';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : Number(v.toPrecision(5)).toString();
}

export async function runHpo(ctx: TaskContext<HpoOptions>): Promise<HpoResult> {
  const o = ctx.options;
  const issues = validateHpoOptions(o);
  if (issues.length > 0) throw spaceError(ctx.task.stage, issues);
  const objective = o.objective;
  if (!objective?.stage && !objective?.plugin) {
    throw new HpoError('HPO_OBJECTIVE_INVALID', `stages[${ctx.task.stage}].options.objective needs stage (e.g. stage: train) or plugin (e.g. plugin: ./objective.mjs).`, {
      retryable: false,
      hint: 'Name the stage or plugin that trains one trial under objective.',
    });
  }
  const db = ctx.db('studies');
  const name = o.studyName ?? ctx.task.id;
  const cell = cellKeyOf(ctx.task.id);
  const ws = o.warmStart;
  let warmFrom: string | undefined;
  if (ws.fromCycle !== 'none' && (ws.topK > 0 || ws.history)) warmFrom = previousStudy(db, cell, ctx.task.cycle, ws.fromCycle);

  const study = await createStudy({
    name,
    storage: db,
    direction: o.direction,
    sampler: o.sampler,
    pruner: o.pruner,
    space: o.space,
    onSpaceChange: o.onSpaceChange,
    // The runner runs one attempt of a task at a time: whatever is RUNNING belongs to a dead attempt.
    recoverRunning: 'all',
    // An interrupted trial is always retried: the study cannot tell a kill from outside from a
    // trial that crashed the process, but the runner can tell better (it sees every task of the
    // process): a trial's child task that keeps bringing the runner down is quarantined and then
    // fails, and that failure fails the trial (docs/resume.md, "When a task kills the runner").
    retryInterrupted: Infinity,
    ...(warmFrom && warmFrom !== name ? { warmStart: { from: warmFrom, topK: ws.topK, history: ws.history } } : {}),
    log: (level, message) => ctx.log[level](message),
  });
  try {
    if (db.get(keys.cell(cell, ctx.task.cycle)) !== name) await db.put(keys.cell(cell, ctx.task.cycle), name);
    const generation = study.key === name ? 1 : Number(study.key.slice(study.key.lastIndexOf('#') + 1));
    const keyOf = (n: number) => (generation > 1 ? `s${generation}.trial=${n}` : `trial=${n}`);
    const target = o.trials;
    const progress = () => {
      const c = study.counts;
      const best = study.bestTrial;
      ctx.progress({
        step: Math.min(c.finished, target),
        total: target,
        unit: 'trial',
        message: `${c.finished}/${target} trials (${c.pruned} pruned, ${c.failed} failed)${best ? `; best ${o.objective.metric} ${fmt(best.value)} (trial ${best.number})` : ''}`,
        ...(best?.value !== undefined ? { metrics: { best: best.value } } : {}),
      });
    };
    const c0 = study.counts;
    if (c0.total > 0) ctx.log.info(`study ${study.key}: ${c0.finished} of ${target} trials finished (${c0.complete} complete, ${c0.pruned} pruned, ${c0.failed} failed, ${c0.waiting} waiting)`);
    progress();

    const runTrial = async (trial: Trial, info: { signal: AbortSignal }): Promise<number> => {
      const stop = new AbortController();
      const onAbort = () => stop.abort(info.signal.reason);
      info.signal.addEventListener('abort', onAbort, { once: true });
      let pruning: Promise<unknown> | undefined;
      try {
        const result = await ctx.runChild(
          {
            key: keyOf(trial.number),
            ...(objective.stage ? { stage: objective.stage } : { plugin: objective.plugin }),
            ...(Object.keys(objective.options ?? {}).length > 0 ? { options: objective.options } : {}),
            params: { ...trial.params },
          },
          {
            signal: stop.signal,
            onEvent(evName, data) {
              if (evName !== objective.event || pruning || trial.state !== 'RUNNING') return;
              const d = data as { epoch?: unknown; step?: unknown; metrics?: Record<string, unknown>; replay?: unknown } | undefined;
              const step = d?.epoch ?? d?.step;
              const v = d?.metrics?.[objective.metric];
              if (typeof v !== 'number' || typeof step !== 'number' || !Number.isInteger(step) || step < 0) return;
              const latest = Math.max(-1, ...trial.intermediateValues.steps);
              // A step reported twice keeps its first value.
              trial.report(v, step);
              // A resumed child replays the epochs of its checkpoint (replay: true). One the study
              // missed (a kill between the child's checkpoint and the study recording it) is
              // recorded above and judged by the pruner as it was then: the trial's latest step.
              // Earlier ones were judged when first reported; judging them again would judge the
              // latest step once more, which nothing in an uninterrupted run does.
              if (d?.replay === true && step < latest) return;
              if (trial.shouldPrune()) {
                // Record the decision first, so a crash now cannot turn it into a full training.
                // Record the decision first, so a crash now cannot turn it into a full training. A
                // kill before it commits replays the trial from the child's cancellation
                // checkpoint, and the pruner decides the same again. Cancel at once: every
                // moment of delay is a chance for the child to finish its training first.
                pruning = study.tell(trial, { state: 'pruned' });
                stop.abort(new Error(`pruned at ${objective.event} ${step} (${objective.metric} ${fmt(v)})`));
              }
            },
          },
        );
        if (pruning) {
          await pruning;
          return NaN;
        }
        const v = metricOf(result, objective.metric);
        if (v === undefined) {
          const have = Object.keys((result as { metrics?: object })?.metrics ?? (result as object) ?? {});
          throw new HpoError(
            'HPO_OBJECTIVE_INVALID',
            `trial ${trial.number}: the objective's result has no metrics.${objective.metric} (it has ${have.length > 0 ? have.join(', ') : 'none'}); set objective.metric to one of them`,
          );
        }
        return v;
      } catch (err) {
        if (pruning) {
          await pruning;
          return NaN;
        }
        const code = (err as { code?: string }).code;
        if (code === 'RUNNER_CHILD_TASK_INVALID' && !/options for child/.test((err as Error).message)) {
          // No such stage or plugin: no trial can succeed, so stop at once.
          throw Object.assign(err as Error, { stopStudy: true, retryable: false });
        }
        throw err;
      } finally {
        info.signal.removeEventListener('abort', onAbort);
      }
    };

    const summary = await study.optimize(runTrial, {
      trials: target,
      parallel: o.parallel,
      ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
      signal: ctx.signal,
      maxConsecutiveFailures: o.maxConsecutiveFailures,
      onTrialEnd: () => progress(),
    });
    if (summary.stopped === 'aborted') {
      await study.flush();
      const c = study.counts;
      await ctx.checkpoint.save({ study: study.key, finished: c.finished }, { step: c.finished, total: target, type: 'cancellation', ...(study.bestValue !== undefined ? { metrics: { best: study.bestValue } } : {}) });
      throw ctx.signal.reason;
    }
    const best = study.bestTrial;
    if (!best) {
      const c = study.counts;
      throw new HpoError(
        'HPO_NO_COMPLETE_TRIAL',
        `study ${study.key} has no complete trial (${c.pruned} pruned, ${c.failed} failed); nothing to report as best. Raise trials, relax the pruner, or check the objective's errors with \`runner study\`.`,
      );
    }
    if (summary.stopped === 'timeout') ctx.log.warn(`timeout: stopped after ${summary.finished} of ${target} trials`);
    if (summary.stopped === 'grid-exhausted') ctx.log.info(`the grid is exhausted after ${summary.finished} trials`);
    const c = study.counts;
    const warm = study.warmStart;
    return {
      study: name,
      studyKey: study.key,
      direction: study.direction,
      bestParams: { ...best.params },
      bestValue: best.value!,
      bestTrial: best.number,
      trials: { complete: c.complete, pruned: c.pruned, failed: c.failed, total: c.total },
      target,
      stopped: summary.stopped,
      metric: objective.metric,
      sampler: o.sampler.type,
      ...(warm ? { warmStart: { from: db.get<StudyMeta>(keys.study(warm.from))?.name ?? warm.from, enqueued: warm.enqueued.length, history: warm.historyUpTo !== undefined } } : {}),
    };
  } finally {
    await study.close();
  }
}
