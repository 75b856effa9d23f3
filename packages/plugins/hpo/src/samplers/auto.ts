/**
 * `sampler: { type: auto }`: the GP sampler where it tends to find better values in the same
 * number of trials, the default TPE elsewhere. The rule (docs/hpo.md, *Samplers*, and the
 * figures that chose it: bench/hpo/index.mjs and heldout.mjs with --samplers):
 *
 *   GP when the space has at least one numeric parameter, at most AUTO_MAX_DIMS parameters, no
 *   conditional parameter the GP cannot model (one whose presence no categorical tells: see
 *   samplers/gp.ts), and the budget (the study's target) is at most AUTO_MAX_BUDGET trials (or
 *   unknown); TPE otherwise.
 *
 * The space and the target are fixed for a study, so a study keeps one sampler, except that a
 * define-by-run study switches to TPE once its trials show a conditional parameter the GP
 * cannot model. The choice is a function of the study's stored history: resumes stay exact.
 */
import { cardinality, type Distribution, type Space } from '../space.js';
import { conditionalCoverage, GpSampler } from './gp.js';
import { TpeSampler } from './tpe.js';
import type { Sampler, SamplingContext } from './types.js';

export const AUTO_MAX_BUDGET = 500;
export const AUTO_MAX_DIMS = 20;

/**
 * Which sampler `auto` uses for this space and budget, and why (for the study's log).
 * `conditional`: the space has a conditional parameter the GP cannot model.
 */
export function chooseSampler(space: Space, budget: number | undefined, conditional: boolean): { use: 'gp' | 'tpe'; why: string } {
  const dists = Object.values(space).filter((d) => cardinality(d) > 1);
  const cats = dists.filter((d) => d.type === 'categorical').length;
  const nums = dists.length - cats;
  if (nums === 0) return { use: 'tpe', why: 'no numeric parameter' };
  if (dists.length > AUTO_MAX_DIMS) return { use: 'tpe', why: `more than ${AUTO_MAX_DIMS} parameters` };
  if (conditional) return { use: 'tpe', why: 'conditional parameters whose presence no categorical tells' };
  if (budget !== undefined && budget > AUTO_MAX_BUDGET) return { use: 'tpe', why: `a budget above ${AUTO_MAX_BUDGET} trials` };
  return { use: 'gp', why: `${nums} numeric and ${cats} categorical parameters, budget ${budget ?? 'unknown'}` };
}

export class AutoSampler implements Sampler {
  readonly type = 'auto';
  readonly gp: GpSampler;
  readonly tpe: TpeSampler;

  constructor(seed: number) {
    this.gp = new GpSampler({ seed });
    this.tpe = this.gp.tpe;
  }

  /** The sampler for a space: conditional when some parameter is missing from a finished trial. */
  private pick(ctx: SamplingContext, space: Space): Sampler {
    const { conditional, modelled } = conditionalCoverage(ctx.history, space);
    return chooseSampler(space, ctx.budget, modelled < conditional).use === 'gp' ? this.gp : this.tpe;
  }

  sampleRelative(ctx: SamplingContext, space: Space): Map<string, number> {
    return this.pick(ctx, space).sampleRelative(ctx, space);
  }

  sampleIndependent(ctx: SamplingContext, name: string, dist: Distribution): number {
    return this.tpe.sampleIndependent(ctx, name, dist);
  }

  saveState(): unknown {
    return this.gp.saveState();
  }

  loadState(state: unknown): void {
    this.gp.loadState(state);
  }
}
