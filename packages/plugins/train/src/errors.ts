/**
 * Every error the trainer raises, one factory per code, sorted. Each says what happened (with the
 * offending value, file or layer) and what to do; `retryable: false` where a retry cannot help.
 */
import { PluginError, type PluginErrorOptions } from '@runner/core';

export const TrainErrorCodes = {
  TRAIN_BACKEND_UNAVAILABLE: 'TRAIN_BACKEND_UNAVAILABLE',
  TRAIN_DATA_INVALID: 'TRAIN_DATA_INVALID',
  TRAIN_LOSS_NOT_FINITE: 'TRAIN_LOSS_NOT_FINITE',
  TRAIN_MODEL_INVALID: 'TRAIN_MODEL_INVALID',
  TRAIN_OPTIONS_INVALID: 'TRAIN_OPTIONS_INVALID',
  TRAIN_UPSTREAM_MISSING: 'TRAIN_UPSTREAM_MISSING',
} as const;

export type TrainErrorCode = keyof typeof TrainErrorCodes;

/** The core's {@link PluginError} with the trainer's codes; not retryable unless said so. */
export class TrainError extends PluginError<TrainErrorCode> {
  constructor(code: TrainErrorCode, message: string, options: PluginErrorOptions = {}) {
    super(code, message, { ...options, retryable: options.retryable ?? false });
    this.name = 'TrainError';
  }
}

export function backendUnavailable(message: string, hint: string, cause?: unknown): TrainError {
  return new TrainError('TRAIN_BACKEND_UNAVAILABLE', message, { hint, cause });
}

export function dataInvalid(message: string, hint: string): TrainError {
  return new TrainError('TRAIN_DATA_INVALID', message, { hint });
}

export function lossNotFinite(epoch: number, value: number, lr: number): TrainError {
  return new TrainError('TRAIN_LOSS_NOT_FINITE', `the training loss became ${value} in epoch ${epoch} (learning rate ${lr})`, {
    hint: 'Lower the learning rate (optimizer.<name>.lr), check the data for extreme values, or set stopOnNaN: false to keep going.',
  });
}

export function modelInvalid(message: string, hint: string, cause?: unknown): TrainError {
  return new TrainError('TRAIN_MODEL_INVALID', message, { hint, cause });
}

export function optionsInvalid(message: string, hint: string): TrainError {
  return new TrainError('TRAIN_OPTIONS_INVALID', message, { hint });
}

export function upstreamMissing(message: string, hint: string): TrainError {
  return new TrainError('TRAIN_UPSTREAM_MISSING', message, { hint });
}
