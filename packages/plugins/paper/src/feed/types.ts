/**
 * The feed layer's contract: bars arrive one at a time, strictly increasing in time, each after
 * the last committed one. A feed reports its health (for `runner status`) and never invents or
 * reorders a bar: duplicates are dropped, late or out-of-order bars are rejected and counted.
 */

import type { Bar as EngineBar } from '@runner/plugin-backtest/engine';

/**
 * One OHLCV bar as the engine takes it (`time` is epoch milliseconds, the bar's open time, as the
 * download plugin stores it), except that a feed's bar may carry no signal: a model strategy's
 * prediction is added on replay, computed from this bar and earlier ones.
 */
export type Bar = Omit<EngineBar, 'signal'> & { signal?: number };

export type FeedState = 'starting' | 'ok' | 'waiting' | 'retrying' | 'stalled' | 'ended';

/** What `runner status` shows about the feed. Counters cover this attempt of the task. */
export interface FeedHealth {
  type: 'replay' | 'poll';
  state: FeedState;
  /** Time of the newest bar the feed handed out, epoch ms. */
  lastBarTime?: number;
  /** Wall-clock time that bar arrived, epoch ms. */
  lastBarAt?: number;
  /** Failed requests (network errors, 5xx, broken bodies). */
  errors: number;
  /** Requests repeated after an error. */
  retries: number;
  /** Bars received again with the same time and values; dropped. */
  duplicates: number;
  /** Bars rejected: older than the last bar, a repeated time with other values, or invalid numbers. */
  rejected: number;
  /** The latest error or rejection, for the status line. */
  lastError?: string;
  /** True while no new bar has arrived for longer than the stall threshold. */
  stalled: boolean;
}

export interface Feed {
  /**
   * The next bar after the last one handed out, waiting (pacing a replay, polling a server) as
   * needed; undefined when the feed has no more bars (the end of a replayed series). Rejects with
   * `signal.reason` when the signal aborts while it waits.
   */
  next(signal: AbortSignal): Promise<Bar | undefined>;
  health(): FeedHealth;
  close(): Promise<void>;
}

/** Called whenever the feed's health changes (an error, a retry, a stall, a rejected bar). */
export type HealthListener = (health: FeedHealth, event?: { kind: 'error' | 'retry' | 'duplicate' | 'rejected' | 'stalled' | 'recovered'; message: string }) => void;
