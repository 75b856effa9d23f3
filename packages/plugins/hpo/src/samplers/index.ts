import { canonical } from '../space.js';
import type { SamplerConfig } from '../types.js';
import { AutoSampler } from './auto.js';
import { GpSampler } from './gp.js';
import { GridSampler } from './grid.js';
import { RandomSampler } from './random.js';
import { TpeSampler, type TpeOptions } from './tpe.js';
import type { Sampler } from './types.js';

export { AutoSampler, chooseSampler, AUTO_MAX_BUDGET, AUTO_MAX_DIMS } from './auto.js';
export { GpSampler, GP_DEFAULTS, type GpOptions } from './gp.js';
export { GridSampler, gridValues } from './grid.js';
export { RandomSampler, sampleUniform } from './random.js';
export { TpeSampler, TPE_DEFAULTS, TPE_OPTUNA_31, TPE_PRESETS, defaultGamma, defaultWeights, type TpeOptions, type TpePreset } from './tpe.js';
export type { Sampler, SamplingContext } from './types.js';

/** Builds a sampler from its configuration, with a resolved seed. */
export function createSampler(config: SamplerConfig, seed: number): Sampler {
  switch (config.type) {
    case 'random':
      return new RandomSampler();
    case 'grid':
      return new GridSampler({ points: config.gridPoints ?? 5, maxValues: 64, seed });
    case 'gp':
      return new GpSampler({ seed, ...(config.startupTrials !== undefined ? { startupTrials: config.startupTrials } : {}) });
    case 'auto':
      return new AutoSampler(seed);
    case 'tpe':
    default: {
      const factor = config.gamma ?? 0.1;
      const cap = config.gammaMax ?? 25;
      const given: Partial<TpeOptions> = {};
      for (const k of TPE_CONFIG_KEYS) if (config[k] !== undefined) (given as Record<string, unknown>)[k] = config[k];
      return new TpeSampler({ preset: config.preset ?? 'default', ...given, gamma: (n: number) => Math.min(Math.ceil(factor * n), cap), seed });
    }
  }
}

/** Sampler settings that map one to one onto TPE options (over the preset's). */
const TPE_CONFIG_KEYS = [
  'startupTrials',
  'candidates',
  'priorWeight',
  'considerEndpoints',
  'considerMagicClip',
  'constantLiar',
  'kernelDensity',
  'multivariate',
  'bandwidth',
  'univariateShare',
  'weighting',
  'magicClipExponent',
  'startup',
  'categoricalPriorWeight',
] as const satisfies readonly (keyof SamplerConfig & keyof TpeOptions)[];

/** Identifies a sampler configuration (with its seed): a changed one starts a new RNG stream. */
export function samplerHash(config: SamplerConfig, seed: number): string {
  // A TPE without a preset is the default preset: both spellings are the same sampler.
  return canonical({ ...config, ...((config.type ?? 'tpe') === 'tpe' ? { preset: config.preset ?? 'default' } : {}), seed });
}
