/**
 * Early stopping and learning-rate reduction with their state kept here, not in tfjs-layers'
 * callbacks: those reset in onTrainBegin (every fit call, i.e. every epoch here) and tfjs'
 * EarlyStopping throws on restoreBestWeights. Semantics follow Keras.
 */
import type { EarlyStoppingSpec, ReduceLrSpec } from './schema.js';

export type Mode = 'min' | 'max';

export function resolveMode(mode: 'auto' | Mode, monitor: string): Mode {
  if (mode !== 'auto') return mode;
  return /acc/i.test(monitor) ? 'max' : 'min';
}

export function isImprovement(mode: Mode, current: number, reference: number, minDelta: number): boolean {
  return mode === 'min' ? current < reference - minDelta : current > reference + minDelta;
}

export interface BestState {
  /** Best monitored value so far (±Infinity before the first epoch). */
  value: number;
  /** 1-based epoch of the best value; 0 before any. */
  epoch: number;
}

export interface EarlyState {
  wait: number;
  stoppedEpoch: number;
}

export interface PlateauState {
  wait: number;
  best: number;
  cooldown: number;
}

/** Tracks the best epoch (for model/best and restoreBest) and decides early stopping. */
export class EarlyStopping {
  readonly mode: Mode;
  constructor(
    readonly monitor: string,
    private readonly spec: EarlyStoppingSpec | undefined,
  ) {
    this.mode = resolveMode(spec?.mode ?? 'auto', monitor);
  }

  initialBest(): BestState {
    return { value: this.mode === 'min' ? Infinity : -Infinity, epoch: 0 };
  }

  /**
   * Updates `best` and `early` after `epoch` (1-based) with the monitored value. Returns whether
   * the weights of this epoch are the new best, and whether training should stop. Like Keras:
   * the first counted epoch is always the best so far, a baseline only holds back the reset of
   * `wait`, and epochs up to startFromEpoch are not counted at all.
   */
  update(epoch: number, current: number, best: BestState, early: EarlyState): { improved: boolean; stop: boolean } {
    const s = this.spec;
    if (s && epoch <= s.startFromEpoch) return { improved: false, stop: false };
    const improved = !Number.isNaN(current) && (best.epoch === 0 || isImprovement(this.mode, current, best.value, s?.minDelta ?? 0));
    if (improved) {
      best.value = current;
      best.epoch = epoch;
    }
    if (!s) return { improved, stop: false };
    early.wait++;
    if (improved) {
      if (s.baseline === undefined || isImprovement(this.mode, current, s.baseline, s.minDelta)) early.wait = 0;
      return { improved, stop: false };
    }
    const stop = early.wait >= s.patience && epoch > 1;
    if (stop) early.stoppedEpoch = epoch;
    return { improved, stop };
  }
}

/** Keras' ReduceLROnPlateau. */
export class ReduceLrOnPlateau {
  readonly mode: Mode;
  constructor(readonly spec: ReduceLrSpec) {
    this.mode = resolveMode(spec.mode, spec.monitor);
  }

  initial(): PlateauState {
    return { wait: 0, best: this.mode === 'min' ? Infinity : -Infinity, cooldown: 0 };
  }

  /** Returns the learning rate for the next epoch. */
  update(current: number, lr: number, s: PlateauState): number {
    if (s.cooldown > 0) {
      s.cooldown--;
      s.wait = 0;
    }
    if (isImprovement(this.mode, current, s.best, this.spec.minDelta)) {
      s.best = current;
      s.wait = 0;
    } else if (s.cooldown === 0) {
      s.wait++;
      if (s.wait >= this.spec.patience && lr > this.spec.minLr) {
        lr = Math.max(lr * this.spec.factor, this.spec.minLr);
        s.cooldown = this.spec.cooldown;
        s.wait = 0;
      }
    }
    return lr;
  }
}
