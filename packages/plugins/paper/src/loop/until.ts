/** The `until` option: a bar count, a time, or forever. */
import type { Until } from '../schema.js';

export interface StopRule {
  /** Total bars to process (across attempts), if any. */
  bars?: number;
  /** Stop before a bar at or after this time, and once the wall clock passes it. */
  time?: number;
}

export function stopRule(u: Until): StopRule {
  if (u === 'forever') return {};
  if ('bars' in u) return { bars: u.bars };
  // Times without an offset are UTC, as everywhere in the runner (Date.parse would read them as local).
  const t = /T|\s\d/.test(u.time) && !/(Z|[+-]\d{2}:?\d{2})$/.test(u.time) ? `${u.time.replace(' ', 'T')}Z` : u.time;
  return { time: Date.parse(t) };
}

export function reachedBars(rule: StopRule, bars: number): boolean {
  return rule.bars !== undefined && bars >= rule.bars;
}

export function reachedTime(rule: StopRule, barTime: number): boolean {
  return rule.time !== undefined && barTime >= rule.time;
}
