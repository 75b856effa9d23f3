/**
 * A backtest stage that needs an `hpo` stage trades with the study's best parameters: the
 * upstream result's `bestParams` are applied to the options (dotted option paths such as
 * `strategy.fast`, or `${params.NAME}` placeholders), and the result is validated again.
 */
import { applyParams, validateOptions, type TaskContext, type UpstreamTask } from '@runner/core';
import { configError } from './errors.js';
import { optionsSchema, validateOptions as checkOptions, type BacktestOptions } from './schema.js';

export function effectiveContext(ctx: TaskContext<BacktestOptions>): { ctx: TaskContext<BacktestOptions>; bestParams?: Record<string, unknown>; from?: string } {
  const sources: { id: string; params: Record<string, unknown> }[] = [];
  for (const up of Object.values(ctx.upstream)) {
    for (const u of (Array.isArray(up) ? up : [up]) as UpstreamTask[]) {
      const r = u.result as { bestParams?: unknown; bestParamsFrom?: unknown } | null;
      // A task that trained with a study's parameters (a train stage after hpo) passes them on
      // in its result; they are its own options, not this stage's.
      if (typeof r?.bestParamsFrom === 'string') continue;
      const bp = r?.bestParams;
      if (bp && typeof bp === 'object' && !Array.isArray(bp)) sources.push({ id: u.id, params: bp as Record<string, unknown> });
    }
  }
  const where = `task ${ctx.task.id}`;
  if (sources.length > 1) throw configError(where, `several upstream tasks offer bestParams (${sources.map((s) => s.id).join(', ')})`, 'Let the backtest stage need one HPO stage per cell');
  const src = sources[0];
  if (!src) return { ctx };
  const opts = applyParams(structuredClone(ctx.options) as unknown as Record<string, unknown>, src.params) as unknown as BacktestOptions;
  const issues = [...validateOptions(optionsSchema, opts), ...checkOptions(opts)];
  if (issues.length > 0) {
    throw configError(where, `the options are invalid after applying the best parameters of ${src.id} (${JSON.stringify(src.params)}): ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'Name HPO parameters after option paths (strategy.fast) and keep the space inside the allowed values');
  }
  const frozen = Object.freeze(opts);
  return { ctx: Object.create(ctx, { options: { value: frozen, enumerable: true } }) as TaskContext<BacktestOptions>, bestParams: src.params, from: src.id };
}
