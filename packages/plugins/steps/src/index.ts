import { appendFileSync, existsSync } from 'node:fs';
import { definePlugin } from '@runner/core';

export interface StepsOptions {
  steps: number;
  stepMs: number;
  checkpointEvery: number;
  failAtStep?: number;
  failTimes: number;
  failRetryable: boolean;
  seed: number;
  traceFile?: string;
  ignoreCancel: boolean;
  gateFile?: string;
  gateStep: number;
}

export interface StepsState {
  step: number;
  value: number;
  executed: number;
}

export interface StepsResult {
  steps: number;
  /** A deterministic digest of every step: equal for interrupted-and-resumed and uninterrupted runs. */
  value: number;
  /** The step this attempt resumed after (0 = from the start). */
  resumedFrom: number;
  /** Steps executed by this attempt. */
  executed: number;
  /** Steps executed by all attempts up to the checkpoint this one resumed from, plus this one. */
  executedTotal: number;
}

/**
 * The diagnostic plugin: counts to `steps`, sleeping `stepMs` per step, checkpointing every
 * `checkpointEvery` steps, and failing on demand. Tests, benchmarks and crash tests use it.
 */
export default definePlugin<StepsOptions, StepsResult>({
  name: 'steps',
  version: '1.0.0',
  description: 'Counts to N with checkpoints and injectable failures; for tests, benchmarks and trying the runner out.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      steps: { type: 'integer', minimum: 0, default: 100, description: 'How many steps to count.' },
      stepMs: { type: 'number', minimum: 0, default: 0, description: 'Milliseconds to sleep per step.' },
      checkpointEvery: { type: 'integer', minimum: 0, default: 10, description: 'Save a checkpoint every N steps (0 = never).' },
      failAtStep: { type: 'integer', minimum: 1, description: 'Throw an error when reaching this step.' },
      failTimes: { type: 'integer', minimum: 0, default: 1, description: 'How many attempts fail at failAtStep before it passes.' },
      failRetryable: { type: 'boolean', default: true, description: 'Whether the injected failure may be retried.' },
      seed: { type: 'integer', default: 0, description: 'Mixed into the result value.' },
      traceFile: { type: 'string', description: 'Append "<task id> <step>" per executed step to this file (for crash tests).' },
      ignoreCancel: { type: 'boolean', default: false, description: 'Ignore cancellation (to test the hard abort after the grace period).' },
      gateFile: { type: 'string', description: 'Before step gateStep, wait until this file exists; {task} in it stands for the task id with / and = as _ (tests hold a task at a known step instead of racing a timer).' },
      gateStep: { type: 'integer', minimum: 1, default: 1, description: 'The step that waits for gateFile.' },
    },
  },
  resumeSafe: ['steps', 'stepMs', 'failAtStep', 'failTimes', 'failRetryable', 'traceFile', 'ignoreCancel', 'checkpointEvery', 'gateFile', 'gateStep'],
  async run(ctx) {
    const o = ctx.options;
    const saved = await ctx.checkpoint.load<StepsState>();
    let state: StepsState = saved?.state ?? { step: 0, value: o.seed >>> 0, executed: 0 };
    const resumedFrom = state.step;
    if (saved) ctx.log.info(`resuming after step ${state.step} (${saved.type} checkpoint #${saved.seq})`);
    let executed = 0;
    while (state.step < o.steps) {
      if (ctx.signal.aborted && !o.ignoreCancel) {
        await ctx.checkpoint.save(state, { step: state.step, total: o.steps, type: 'cancellation' });
        throw ctx.signal.reason;
      }
      const step = state.step + 1;
      if (o.failAtStep === step && ctx.task.failures < o.failTimes) {
        await ctx.checkpoint.save(state, { step: state.step, total: o.steps, type: 'failure' });
        throw Object.assign(new Error(`injected failure at step ${step} (failure ${ctx.task.failures + 1} of ${o.failTimes})`), {
          retryable: o.failRetryable,
        });
      }
      const gate = o.gateFile?.replaceAll('{task}', ctx.task.id.replace(/[/=]/g, '_'));
      if (gate && step === o.gateStep && !existsSync(gate)) {
        ctx.log.info(`waiting at step ${step} for ${gate}`);
        while (!existsSync(gate) && !(ctx.signal.aborted && !o.ignoreCancel)) await sleep(10);
        if (!existsSync(gate)) continue;
      }
      if (o.stepMs > 0) await sleep(o.stepMs);
      state = { step, value: mix(state.value, step), executed: state.executed + 1 };
      executed++;
      if (o.traceFile) appendFileSync(o.traceFile, `${ctx.task.id} ${step}\n`);
      ctx.progress({ step, total: o.steps });
      if (o.checkpointEvery > 0 && step % o.checkpointEvery === 0 && step < o.steps) {
        await ctx.checkpoint.save(state, { step, total: o.steps });
      }
    }
    return { steps: o.steps, value: state.value, resumedFrom, executed, executedTotal: state.executed };
  },
});

function mix(h: number, step: number): number {
  let x = (h ^ Math.imul(step, 0x9e3779b1)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
