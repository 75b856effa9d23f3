import type { Rng } from '../rng.js';
import type { Distribution, Space } from '../space.js';
import type { Sampler, SamplingContext } from './types.js';

/**
 * One uniform draw in the sampler's (internal) representation, as Optuna's RandomSampler: log
 * ranges uniform in log space, ints and stepped floats uniform over [low - step/2, high + step/2]
 * and rounded onto the grid, choices uniform.
 */
export function sampleUniform(rng: Rng, d: Distribution): number {
  if (d.type === 'categorical') return rng.int(d.choices.length);
  if (d.low === d.high) return d.low;
  if (d.type === 'int') {
    if (d.log) {
      const v = Math.round(Math.exp(rng.uniform(Math.log(d.low - 0.5), Math.log(d.high + 0.5))));
      return Math.min(d.high, Math.max(d.low, v));
    }
    const v = rng.uniform(d.low - 0.5 * d.step, d.high + 0.5 * d.step);
    return Math.min(d.high, Math.max(d.low, Math.round((v - d.low) / d.step) * d.step + d.low));
  }
  if (d.log) return Math.min(d.high, Math.max(d.low, Math.exp(rng.uniform(Math.log(d.low), Math.log(d.high)))));
  if (d.step !== undefined) {
    const v = rng.uniform(d.low - 0.5 * d.step, d.high + 0.5 * d.step);
    return Math.min(d.high, Math.max(d.low, Math.round((v - d.low) / d.step) * d.step + d.low));
  }
  return rng.uniform(d.low, d.high);
}

export class RandomSampler implements Sampler {
  readonly type = 'random';
  sampleRelative(_ctx: SamplingContext, _space: Space): Map<string, number> {
    return new Map();
  }
  sampleIndependent(ctx: SamplingContext, _name: string, dist: Distribution): number {
    return sampleUniform(ctx.rng, dist);
  }
}
