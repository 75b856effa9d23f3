/**
 * Errors of the HPO plugin and API: `PluginError`s of the core with a stable `code`. They say
 * what happened and what to do in the message itself (the study API's callers see only that),
 * and whether a retry can help; the runner also shows their hint.
 */
import { PluginError, type PluginErrorOptions } from '@runner/core';

/** Every error code, sorted as in docs/hpo.md (a test keeps the two in sync). */
export const HPO_ERROR_CODES = [
  'HPO_SPACE_INVALID',
  'HPO_SPACE_CHANGED',
  'HPO_DIRECTION_CHANGED',
  'HPO_DISTRIBUTION_CHANGED',
  'HPO_TRIAL_FINISHED',
  'HPO_TOO_MANY_FAILURES',
  'HPO_NO_COMPLETE_TRIAL',
  'HPO_GRID_EXHAUSTED',
  'HPO_OBJECTIVE_INVALID',
  'HPO_STUDY_NOT_FOUND',
] as const;

export type HpoErrorCode = (typeof HPO_ERROR_CODES)[number];

export interface HpoIssue {
  path: string;
  message: string;
  hint?: string;
}

/** The core's {@link PluginError} with the HPO codes and located issues; not retryable unless said so. */
export class HpoError extends PluginError<HpoErrorCode> {
  readonly issues: HpoIssue[];

  constructor(code: HpoErrorCode, message: string, options: PluginErrorOptions & { issues?: HpoIssue[] } = {}) {
    super(code, message, { ...options, retryable: options.retryable ?? false });
    this.name = 'HpoError';
    this.issues = options.issues ?? [];
  }
}

/** Thrown by an objective (or returned by the pruner's decision) to end a trial as PRUNED. */
export class TrialPruned extends Error {
  readonly code = 'HPO_TRIAL_PRUNED';
  constructor(message = 'trial pruned') {
    super(message);
    this.name = 'TrialPruned';
  }
}

export function isTrialPruned(err: unknown): boolean {
  return err instanceof TrialPruned || (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'HPO_TRIAL_PRUNED');
}
