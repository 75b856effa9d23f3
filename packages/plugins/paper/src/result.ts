/**
 * What a paper task returns when it reaches `until` or the end of a replay (stored in the run
 * store, shown by `runner tasks --json`).
 */
import type { Difference } from './broker/reconcile.js';
import type { ExportedFiles } from './export/export.js';

export interface PaperResult {
  /** One line for `runner status` and `runner tasks`: P&L, bars, fills, position, last bar. */
  headline: string;
  symbol: string;
  /** Bars committed, across all attempts. */
  bars: number;
  /** Fills booked (the trade log, `fills.csv`). */
  fills: number;
  /** Closed round trips. */
  roundTrips: number;
  cash: number;
  position: number;
  equity: number;
  pnl: number;
  returnPct: number;
  commission: number;
  /** ISO time of the last committed bar, or null when none was. */
  lastBarTime: string | null;
  /** Why it ended: `until`, or `ended` (a replay ran out of bars). */
  stoppedBy: 'until' | 'ended' | 'stopped';
  /** Feed counters of the last attempt. */
  feed: { errors: number; retries: number; duplicates: number; rejected: number };
  /** The start-up reconciliation of the last attempt with the broker. */
  reconcile: { broker: string; differences: Difference[] };
  /** Fills whose order id was already booked (never booked twice; should be 0). */
  duplicatesSuppressed: number;
  /** Bars where the broker's fills differed from the engine's. */
  fillMismatches: number;
  /**
   * Milliseconds per bar in the last attempt: `commit` is the ledger's transaction (until flushed
   * with durability: flushed), `bar` the whole bar (broker calls, engine, commit).
   */
  latency: { durability: 'flushed' | 'committed'; commit: LatencySummary | null; bar: LatencySummary | null };
  /** Artifact paths relative to the run directory (with `report: true`). */
  files?: ExportedFiles;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}
