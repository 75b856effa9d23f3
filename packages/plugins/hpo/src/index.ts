/**
 * `@runner/plugin-hpo`: Optuna-style hyperparameter studies in the run store, with TPE, random
 * and grid samplers, median/percentile, successive-halving and Hyperband pruners, warm starts
 * across cycles and exact resume.
 *
 * The default export is the `hpo` stage plugin; the named exports are the study API, usable from
 * any plugin with `ctx.db(...)` as storage (or `memoryStorage()` in scripts).
 *
 * @example
 * ```ts
 * import { definePlugin } from '@runner/core';
 * import { createStudy } from '@runner/plugin-hpo';
 *
 * export default definePlugin({
 *   name: 'my-search',
 *   version: '1.0.0',
 *   async run(ctx) {
 *     const study = await createStudy({ name: ctx.task.id, storage: ctx.db('studies'), sampler: { type: 'tpe', seed: 1 }, recoverRunning: 'all' });
 *     try {
 *       await study.optimize((trial) => (trial.suggestFloat('x', -5, 5) - 1) ** 2, { trials: 200, signal: ctx.signal });
 *       return { best: study.bestParams };
 *     } finally {
 *       await study.close();
 *     }
 *   },
 * });
 * ```
 */
import { definePlugin } from '@runner/core';
import { studyCommand } from './cli/study-command.js';
import { runHpo, validateHpoOptions, type HpoOptions, type HpoResult } from './plugin/run.js';
import { hpoSchema, operational, resumeSafe } from './plugin/schema.js';

export { createStudy, loadStudy, Study, Trial, type CreateStudyOptions, type OptimizeOptions, type OptimizeSummary, type StudyCounts, type TellResult } from './study.js';
export { HpoError, HPO_ERROR_CODES, TrialPruned, isTrialPruned, type HpoErrorCode } from './errors.js';
export { memoryStorage, readStudy, listStudyNames, keys as storageKeys, type StoredStudy } from './storage.js';
export { runStudies } from './run-store.js';
export { pedAnovaImportances, type Importance, type ImportanceOptions } from './importance.js';
export {
  parseSpace,
  distributionIssues,
  describeDistribution,
  floatDist,
  intDist,
  categoricalDist,
  type Distribution,
  type Space,
  type SpaceConfig,
  type ParamConfig,
  type ParamValue,
  type Choice,
} from './space.js';
export { TpeSampler, RandomSampler, GridSampler, createSampler, TPE_DEFAULTS, TPE_OPTUNA_31, type Sampler, type SamplingContext, type TpeOptions, type TpePreset } from './samplers/index.js';
export { NopPruner, PercentilePruner, SuccessiveHalvingPruner, HyperbandPruner, type Pruner } from './pruners/index.js';
export { createPruner } from './pruners/create.js';
export { Rng } from './rng.js';
export type { Direction, TrialState, TrialRecord, FrozenTrial, SamplerConfig, PrunerConfig, StudyStorage, StudyMeta } from './types.js';
export { validateHpoOptions, type HpoOptions, type HpoResult } from './plugin/run.js';

const plugin = definePlugin<HpoOptions, HpoResult>({
  name: 'hpo',
  version: '1.0.0',
  description: 'Optuna-style hyperparameter studies: TPE/random/grid, pruning, warm starts per cell and cycle, exact resume',
  schema: hpoSchema,
  resumeSafe,
  operational,
  commands: [studyCommand],
  // Space checks JSON schema cannot express (low > high, ...), reported with file:line:col.
  validate: validateHpoOptions,
  // Sections of `runner report` and the dashboard, imported only when a report is made.
  report: async (input) => (await import('./report.js')).hpoReport(input),
  run: runHpo,
});

export default plugin;
