/**
 * What `runner status` shows for a paper task: the progress message (last bar, position, feed
 * health) and numbers as progress metrics (cash, equity, P&L, feed errors, retries, last bar age).
 * Plain progress updates through the core, so `runner status --json` carries them too.
 */
import type { ProgressUpdate } from '@runner/core';
import type { FeedHealth } from '../feed/types.js';

export interface TraderView {
  bars: number;
  totalBars?: number;
  lastTime: number;
  cash: number;
  position: number;
  equity: number;
  startCash: number;
  trades: number;
  feed: FeedHealth;
  /** Differences found by the last reconciliation with the broker. */
  reconcileDifferences: number;
}

export function progressOf(v: TraderView, now = Date.now()): ProgressUpdate {
  const f = v.feed;
  const age = f.lastBarAt !== undefined ? (now - f.lastBarAt) / 1000 : undefined;
  const last = Number.isFinite(v.lastTime) ? new Date(v.lastTime).toISOString().replace('.000Z', 'Z') : 'none yet';
  const health = `${f.stalled ? 'STALLED' : f.state}${age !== undefined ? `, bar age ${fmtAge(age)}` : ''}${f.errors ? `, ${f.errors} errors` : ''}${f.retries ? `, ${f.retries} retries` : ''}${f.duplicates ? `, ${f.duplicates} dup` : ''}${f.rejected ? `, ${f.rejected} rejected` : ''}`;
  const metrics: Record<string, number> = {
    cash: round(v.cash),
    position: v.position,
    equity: round(v.equity),
    pnl: round(v.equity - v.startCash),
    trades: v.trades,
    feedErrors: f.errors,
    feedRetries: f.retries,
    feedRejected: f.rejected,
    feedStalled: f.stalled ? 1 : 0,
  };
  // No lastBarTime here: `runner status` rounds metrics to 4 digits, which would show a wrong
  // time; the message carries it in ISO form.
  if (age !== undefined) metrics.lastBarAgeS = Math.round(age * 10) / 10;
  if (v.reconcileDifferences) metrics.reconcileDifferences = v.reconcileDifferences;
  const out: ProgressUpdate = {
    step: v.bars,
    message: `last bar ${last} · pos ${v.position} · cash ${round(v.cash)} · P&L ${round(v.equity - v.startCash)} · feed ${health}`,
    metrics,
  };
  if (v.totalBars !== undefined) out.total = v.totalBars;
  return out;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function fmtAge(s: number): string {
  return s < 120 ? `${s.toFixed(1)}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${(s / 3600).toFixed(1)}h`;
}
