/**
 * The study/trial model and its storage layout. A study lives in a key/value store (the run's
 * LMDB store through `ctx.db('studies')`, or memory): a small header, one record per trial, and
 * a tiny state record (next trial number, sampler RNG) rewritten with every ask, so that the
 * cost of a trial never grows with the size of the study.
 */
import type { Distribution, ParamValue, Space } from './space.js';

export type Direction = 'minimize' | 'maximize';

/**
 * WAITING: enqueued (warm start, `enqueue`, a retry) and not started. RUNNING: started.
 * COMPLETE: has a final value. PRUNED: stopped early by the pruner. FAIL: the objective failed,
 * or the trial was interrupted more often than it may be retried.
 */
export type TrialState = 'WAITING' | 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAIL';

/** Where a trial's parameters came from. */
export type TrialSource = 'sampler' | 'enqueued' | 'warm-start';

/** A trial as stored (key `['trial', study, number]`) and as `study.trials` returns it. */
export interface TrialRecord {
  number: number;
  state: TrialState;
  /** Parameter values as the objective sees them. */
  params: Record<string, ParamValue>;
  /** Final value (COMPLETE) or last intermediate value (PRUNED). */
  value?: number;
  /** Intermediate values in report order. */
  steps?: number[];
  values?: number[];
  /** Epoch milliseconds of the latest start, and of the end. */
  startedAt?: number;
  finishedAt?: number;
  /** Times started (a retried trial has 2). */
  attempts: number;
  source: TrialSource;
  /** For warm-started trials: the trial of the earlier study they repeat. */
  from?: { study: string; number: number; value?: number };
  /** The session running it (while RUNNING). */
  owner?: string;
  /**
   * Interruptions (a runner died while it ran) and errors, oldest first. `counted` marks the
   * interruptions that count against `retryInterrupted` (see createStudy).
   */
  failures?: { at: number; reason: string; counted?: boolean }[];
  /** Intermediate values it had when its latest attempt started (progress since then clears an interruption). */
  startSteps?: number;
  /**
   * Define-by-run trials, while unfinished: the sampler's joint suggestion made when the trial was
   * asked (internal values by parameter name), so that an attempt retried after an interruption
   * suggests the parameters the first attempt had not asked for yet exactly as an uninterrupted
   * study does. Dropped when the trial finishes.
   */
  relative?: Record<string, number>;
  /** Why it failed (FAIL). */
  error?: string;
  /** Successive halving: values recorded at each completed rung, and the Hyperband bracket. */
  rungs?: number[];
  bracket?: number;
  user?: Record<string, unknown>;
}

/** A read-only copy of a trial. */
export type FrozenTrial = Readonly<TrialRecord>;

export interface SamplerConfig {
  type: 'tpe' | 'random' | 'grid' | 'gp' | 'auto';
  seed?: number;
  /** TPE: the base configuration ('default', or Optuna 3.1's exactly); the settings below override it. @default 'default' */
  preset?: 'default' | 'optuna-3.1';
  multivariate?: boolean;
  /** TPE, multivariate kernel widths. Default: 'scott' (preset optuna-3.1: 'optuna'). */
  bandwidth?: 'scott' | 'optuna';
  /** TPE, multivariate: share of trials sampled by the univariate TPE. Default 0.5 (optuna-3.1: 0). */
  univariateShare?: number;
  /** TPE: weights of the good group. Default 'ei' (optuna-3.1: 'optuna'). */
  weighting?: 'ei' | 'optuna';
  /** TPE: exponent α of the magic clip. Default 1.25 (optuna-3.1: 1). */
  magicClipExponent?: number;
  /** TPE: how the startup trials are chosen. Default 'halton' (optuna-3.1: 'random'). */
  startup?: 'halton' | 'random';
  startupTrials?: number;
  candidates?: number;
  /** Fraction of observations in the good group (γ), capped by `gammaMax`. @default 0.1 */
  gamma?: number;
  /** @default 25 */
  gammaMax?: number;
  priorWeight?: number;
  /** TPE: the prior weight inside categorical kernels. Default: priorWeight. */
  categoricalPriorWeight?: number;
  considerEndpoints?: boolean;
  considerMagicClip?: boolean;
  constantLiar?: boolean;
  /** TPE kernel densities: as Optuna 3.1 evaluates them (the default), or normalised ('exact'). */
  kernelDensity?: 'optuna-3.1' | 'exact';
  /** Grid: values per continuous parameter. @default 5 */
  gridPoints?: number;
}

export interface PrunerConfig {
  type: 'none' | 'median' | 'percentile' | 'successive-halving' | 'hyperband';
  percentile?: number;
  startupTrials?: number;
  warmupSteps?: number;
  intervalSteps?: number;
  minTrials?: number;
  minResource?: number | 'auto';
  maxResource?: number | 'auto';
  reductionFactor?: number;
  minEarlyStoppingRate?: number;
  bootstrapCount?: number;
}

/** The study header (key `['study', key]`). Rewritten only when it changes (a new parameter). */
export interface StudyMeta {
  format: 1;
  /** Storage key: the name, or `<name>#<generation>` after `onSpaceChange: new-study`. */
  key: string;
  name: string;
  generation: number;
  direction: Direction;
  createdAt: number;
  /** The fixed search space, when the study was created with one. */
  space?: Space;
  spaceHash?: string;
  /** Every parameter seen, with its distribution. */
  dists: Record<string, Distribution>;
  /** The sampler at creation (its seed keeps a re-created sampler on the same stream). */
  sampler: { type: string; seed: number };
  warmStart?: {
    from: string;
    /** Trials enqueued from it (numbers in this study). */
    enqueued: number[];
    /** Its finished trials below this number feed the sampler (history mode). */
    historyUpTo?: number;
  };
  /** The study that replaced this one after a search-space change. */
  supersededBy?: string;
  /** The study this one replaced. */
  previous?: string;
  user?: Record<string, unknown>;
}

/** Rewritten with every ask (key `['state', key]`): a few dozen bytes. */
export interface StudyState {
  next: number;
  rng: number[];
  /** Hash of the sampler configuration the RNG belongs to. */
  samplerHash: string;
  sampler?: unknown;
  pruner?: Record<string, number>;
  /** FAIL trials (finished trials are counted by the history). */
  failed?: number;
}

/** A study session's lease (key `['session', key, id]`), renewed while it runs trials. */
export interface SessionRecord {
  id: string;
  pid: number;
  host: string;
  procStart?: string;
  startedAt: number;
  heartbeatAt: number;
  leaseMs: number;
}

export type StorageKey = string | number | ReadonlyArray<string | number>;

/**
 * Where studies live: the shape of the runner's `ctx.db(name)` (a private LMDB database with
 * atomic transactions), also implemented in memory by {@link memoryStorage}.
 */
export interface StudyStorage {
  get<T = unknown>(key: StorageKey): T | undefined;
  range<T = unknown>(options?: { start?: StorageKey; end?: StorageKey; reverse?: boolean; limit?: number }): Iterable<{ key: StorageKey; value: T }>;
  transaction<T>(fn: (tx: { get<V = unknown>(key: StorageKey): V | undefined; put(key: StorageKey, value: unknown): void; remove(key: StorageKey): void }) => T): Promise<T>;
}
