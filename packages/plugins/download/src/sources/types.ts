import type { SourceType } from '../schema.js';
import type { Frame } from '../series/frame.js';
import type { SeriesRun } from '../session.js';

export interface Fetched {
  frame: Frame;
  /** Where it came from, without secrets. */
  url?: string;
  etag?: string;
  /** sha256 of the input file (file source). */
  inputSha256?: string;
}

/** One source type, configured: how to fetch a symbol and what identifies its content. */
export interface SourceDriver {
  readonly type: SourceType;
  /** The bar length, when the source has one (path segment and gap check). */
  readonly interval?: string;
  /** The source options that determine the content; their hash names the directory. */
  readonly params: Record<string, unknown>;
  /** The range runs up to "now", so `maxAge` decides when a stored file is stale. */
  readonly openEnded: boolean;
  /** The calendar for gap counting when `checks.calendar` is auto. */
  defaultCalendar(stepMs: number): 'continuous' | 'weekdays';
  fetch(run: SeriesRun, symbol: string): Promise<Fetched>;
  /** Whether a stored file still matches its input (file source: the input's sha256). */
  inputSha256?(symbol: string): Promise<string | undefined>;
}

export const DAY_MS = 86_400_000;

export function dailyWeekdays(stepMs: number): 'continuous' | 'weekdays' {
  return stepMs >= DAY_MS * 0.9 && stepMs <= DAY_MS * 1.1 ? 'weekdays' : 'continuous';
}
