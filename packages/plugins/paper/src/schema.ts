/**
 * The paper plugin's options: the JSON schema (the single source of defaults and descriptions)
 * and the TypeScript types that mirror it. `feed` is a tagged union on `type` (replay | poll);
 * `strategy`, `commission`, `slippage` and `sizing` take the backtester's forms.
 */
import type { JSONSchema } from '@runner/core';
import backtest, { type StrategyOptions } from '@runner/plugin-backtest';

export interface ReplayFeedOptions {
  type: 'replay';
  from: string;
  speed: number | 'max';
}

export interface PollFeedOptions {
  type: 'poll';
  url: string;
  intervalMs: number;
  timeoutMs: number;
  stallMs: number;
  retry: { baseMs: number; maxMs: number };
}

export type FeedOptions = ReplayFeedOptions | PollFeedOptions;

export type Until = 'forever' | { bars: number } | { time: string };

export interface PaperOptions {
  feed: FeedOptions;
  strategy: StrategyOptions;
  /** Which bars of a replayed series trade (the backtester's form); a model strategy defaults to `{ after: training }`. */
  period?: { after?: 'training'; start?: string; end?: string };
  allowInSample: boolean;
  symbol?: string;
  cash: number;
  commission: { perUnit: number } | { pct: number } | { perOrder: number };
  slippage: { bps: number };
  sizing: { units: number } | { fraction: number; fractional?: boolean };
  allowShort: boolean;
  until: Until;
  durability: 'flushed' | 'committed';
  broker: { type: 'simulated' };
  report: boolean;
}

const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?)?$';

const replay: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  description: 'Replay a stored series bar by bar.',
  properties: {
    type: { const: 'replay' },
    from: { type: 'string', minLength: 1, default: 'download', description: 'The stage (in `needs`) whose series to replay: a download stage.' },
    speed: {
      anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { const: 'max' }],
      default: 'max',
      description: 'Times real time (100: a 1-minute bar every 0.6 s), or "max": as fast as durable commits allow.',
    },
  },
};

const poll: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'url'],
  description: 'Poll a live HTTP feed: GET <url>?since=<last bar ms> answering a JSON array of { time, open, high, low, close, volume }.',
  properties: {
    type: { const: 'poll' },
    url: { type: 'string', pattern: '^https?://', description: 'The feed URL (http or https).' },
    intervalMs: { type: 'integer', minimum: 10, default: 1000, description: 'Milliseconds between polls.' },
    timeoutMs: { type: 'integer', minimum: 10, default: 10_000, description: 'A request taking longer than this fails and is retried.' },
    stallMs: { type: 'integer', minimum: 0, default: 0, description: 'No new bar for this long marks the feed stalled in status (0: 5 × intervalMs, at least 5 s).' },
    retry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Backoff after a failed request: a random wait up to min(maxMs, baseMs × 2^(n-1)). Retries never stop; status shows them.',
      properties: {
        baseMs: { type: 'integer', minimum: 1, default: 250, description: 'First backoff window.' },
        maxMs: { type: 'integer', minimum: 1, default: 30_000, description: 'Largest backoff window.' },
      },
    },
  },
};

/** The fields of a feed form, without their checks (the form's schema does those). */
function fieldsOf(form: JSONSchema): Record<string, JSONSchema> {
  const props = (form as { properties: Record<string, JSONSchema> }).properties;
  return Object.fromEntries(Object.entries(props).filter(([k]) => k !== 'type').map(([k, v]) => [k, { description: (v as { description?: string }).description ?? k }]));
}

function fromBacktest(name: string): JSONSchema {
  const props = (backtest.schema as { properties: Record<string, JSONSchema> }).properties;
  return structuredClone(props[name]!);
}

export const optionsSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['feed', 'strategy'],
  properties: {
    feed: {
      type: 'object',
      description: 'Where bars come from: { type: replay, from: download, speed: 100 | max } or { type: poll, url, intervalMs }.',
      required: ['type'],
      // Every field of either form, named here too (checked by the form's own schema below), so that
      // option paths such as feed.speed resolve for `operational`.
      properties: {
        type: { enum: ['replay', 'poll'], description: 'replay: a stored series; poll: a live HTTP feed.' },
        ...fieldsOf(replay),
        ...fieldsOf(poll),
      },
      allOf: [
        { if: { properties: { type: { const: 'replay' } } }, then: replay },
        { if: { properties: { type: { const: 'poll' } } }, then: poll },
      ],
    },
    // The backtester's own option forms, read from its plugin definition: one source, no copy.
    strategy: fromBacktest('strategy'),
    // Which bars a replay trades, and the look-ahead guard for a model strategy: the backtester's forms.
    period: fromBacktest('period'),
    allowInSample: fromBacktest('allowInSample'),
    symbol: { type: 'string', minLength: 1, description: 'Symbol of the orders (default: the cell\'s symbol, else the series\' symbol).' },
    cash: { type: 'number', exclusiveMinimum: 0, default: 10_000, description: 'Starting cash.' },
    commission: fromBacktest('commission'),
    slippage: fromBacktest('slippage'),
    sizing: fromBacktest('sizing'),
    allowShort: { type: 'boolean', default: false, description: 'Whether entries may go short.' },
    until: {
      default: 'forever',
      description: 'When the task completes: { bars: 5000 } (bars processed, counting earlier attempts), { time: 2026-12-31T00:00:00Z } (stops before the first bar at or after it; a poll feed also when the wall clock passes it), or forever (until stopped, or a replay runs out of bars).',
      anyOf: [
        { const: 'forever' },
        { type: 'object', additionalProperties: false, required: ['bars'], properties: { bars: { type: 'integer', minimum: 1 } } },
        { type: 'object', additionalProperties: false, required: ['time'], properties: { time: { type: 'string', pattern: DATE_PATTERN, description: 'ISO date or date-time, UTC unless it has an offset.' } } },
      ],
    },
    durability: {
      enum: ['flushed', 'committed'],
      default: 'flushed',
      description: 'flushed: each bar\'s transaction is fsynced before the next bar is read (survives power loss); committed: committed but flushed in the background (survives a killed process, not a power loss).',
    },
    broker: {
      type: 'object',
      additionalProperties: false,
      default: { type: 'simulated' },
      description: 'Where orders go. Only the simulated broker ships; see docs/paper.md for writing an adapter.',
      properties: { type: { const: 'simulated', default: 'simulated' } },
    },
    report: { type: 'boolean', default: true, description: 'Write the trade list and equity (Arrow + CSV) and an HTML report when the task ends.' },
  },
};

/** Options that never change what is traded: changing them keeps the ledger. */
export const OPERATIONAL_OPTIONS = ['until', 'durability', 'report'] as const;
