import { canonical } from '../space.js';
import type { SamplerConfig } from '../types.js';
import { GridSampler } from './grid.js';
import { RandomSampler } from './random.js';
import { TpeSampler } from './tpe.js';
import type { Sampler } from './types.js';

export { GridSampler, gridValues } from './grid.js';
export { RandomSampler, sampleUniform } from './random.js';
export { TpeSampler, TPE_DEFAULTS, defaultGamma, defaultWeights, type TpeOptions } from './tpe.js';
export type { Sampler, SamplingContext } from './types.js';

/** Builds a sampler from its configuration, with a resolved seed. */
export function createSampler(config: SamplerConfig, seed: number): Sampler {
  switch (config.type) {
    case 'random':
      return new RandomSampler();
    case 'grid':
      return new GridSampler({ points: config.gridPoints ?? 5, maxValues: 64, seed });
    case 'tpe':
    default: {
      const factor = config.gamma ?? 0.1;
      const cap = config.gammaMax ?? 25;
      return new TpeSampler({
        ...(config.startupTrials !== undefined ? { startupTrials: config.startupTrials } : {}),
        ...(config.candidates !== undefined ? { candidates: config.candidates } : {}),
        ...(config.priorWeight !== undefined ? { priorWeight: config.priorWeight } : {}),
        ...(config.considerEndpoints !== undefined ? { considerEndpoints: config.considerEndpoints } : {}),
        ...(config.considerMagicClip !== undefined ? { considerMagicClip: config.considerMagicClip } : {}),
        ...(config.constantLiar !== undefined ? { constantLiar: config.constantLiar } : {}),
        ...(config.kernelDensity !== undefined ? { kernelDensity: config.kernelDensity } : {}),
        multivariate: config.multivariate ?? false,
        gamma: (n: number) => Math.min(Math.ceil(factor * n), cap),
      });
    }
  }
}

/** Identifies a sampler configuration (with its seed): a changed one starts a new RNG stream. */
export function samplerHash(config: SamplerConfig, seed: number): string {
  return canonical({ ...config, seed });
}
