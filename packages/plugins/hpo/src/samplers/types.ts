import type { History } from '../history.js';
import type { Rng } from '../rng.js';
import type { Distribution, Space } from '../space.js';

/** What a sampler sees when it picks values for a trial. */
export interface SamplingContext {
  readonly rng: Rng;
  readonly history: History;
  /** Internal parameter values of the other trials still running (for the constant liar). */
  readonly running: ReadonlyArray<ReadonlyMap<string, number>>;
  /** The trial being sampled. */
  readonly trialNumber: number;
  /** Study name (grid order and Hyperband brackets derive from it). */
  readonly studyName: string;
  /** The study's target number of finished trials, when known (`optimize({ trials })`). */
  readonly budget?: number;
}

/**
 * A sampler suggests internal values (numbers; a choice's index). `sampleRelative` picks values
 * for a whole space at once (multivariate TPE, grid); whatever it leaves out is sampled one
 * parameter at a time by `sampleIndependent`.
 */
export interface Sampler {
  readonly type: string;
  sampleRelative(ctx: SamplingContext, space: Space): Map<string, number>;
  sampleIndependent(ctx: SamplingContext, name: string, dist: Distribution): number;
  /** Extra state to persist with the study besides the RNG (e.g. the grid's position). */
  saveState?(): unknown;
  loadState?(state: unknown): void;
  /** True once a grid has visited every point. */
  exhausted?(ctx: SamplingContext, space: Space): boolean;
}
