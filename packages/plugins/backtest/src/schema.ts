/**
 * The backtest plugin's options: the JSON schema (the single source of defaults and descriptions)
 * and the TypeScript types that mirror it.
 */
import type { JSONSchema } from '@runner/core';

export const STRATEGY_TYPES = ['sma-cross', 'rsi', 'model'] as const;
export type StrategyType = (typeof STRATEGY_TYPES)[number];

const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?)?$';

export interface StrategyOptions {
  type?: StrategyType;
  module?: string;
  params: Record<string, unknown>;
  from?: string;
  which: 'final' | 'best';
  batchSize: number;
  fast?: number;
  slow?: number;
  period?: number;
  lower?: number;
  upper?: number;
  short?: boolean;
  scale?: number;
  enterAbove?: number;
  exitBelow?: number;
  shortBelow?: number;
  coverAbove?: number;
}

export type CommissionOptions = { perUnit: number } | { pct: number } | { perOrder: number };
export type SizingOptions = { units: number } | { fraction: number; fractional?: boolean };

export interface BacktestOptions {
  data: { from: string; file?: string };
  strategy: StrategyOptions;
  period?: { after?: 'training'; start?: string; end?: string };
  allowInSample: boolean;
  cash: number;
  commission: CommissionOptions;
  slippage: { bps: number };
  sizing: SizingOptions;
  allowShort: boolean;
  checkpoint: { everyBars?: number; everySeconds?: number };
  outputs: { csv: boolean; arrow: boolean; html: boolean };
}

const num = (description: string, extra: JSONSchema = {}): JSONSchema => ({ type: 'number', description, ...extra });

export const optionsSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['strategy'],
  properties: {
    data: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Where the bars come from: the Arrow series of an upstream stage (the download plugin\'s result.file), or a file.',
      properties: {
        from: { type: 'string', default: 'download', description: 'Upstream stage whose result has `file`, the path of an Arrow series with time, open, high, low and close.' },
        file: { type: 'string', minLength: 1, description: 'Or an Arrow series file (relative to the directory runner was started in).' },
      },
    },
    strategy: {
      type: 'object',
      additionalProperties: false,
      description:
        'What trades: a built-in rule (type: sma-cross | rsi), a model trained upstream (type: model, from: train), or a module that default-exports defineStrategy(...) ({ module: ./my-strategy.mjs, params: {...} }).',
      properties: {
        type: { enum: [...STRATEGY_TYPES], description: 'A built-in strategy. Set either type or module.' },
        module: { type: 'string', minLength: 1, description: 'A strategy module (.mjs/.js; relative to the directory runner was started in) whose default export is defineStrategy({...}).' },
        params: { type: 'object', default: {}, description: 'Parameters handed to a module strategy\'s init().' },
        from: { type: 'string', description: 'type: model: the upstream train stage whose model trades.' },
        which: { enum: ['final', 'best'], default: 'final', description: 'type: model: the final or the best epoch\'s model.' },
        batchSize: { type: 'integer', minimum: 1, default: 4096, description: 'type: model: bars per prediction batch.' },
        fast: { type: 'integer', minimum: 1, description: 'sma-cross: fast window in bars. Default 10.' },
        slow: { type: 'integer', minimum: 2, description: 'sma-cross: slow window in bars. Default 50.' },
        period: { type: 'integer', minimum: 2, description: 'rsi: Wilder period in bars. Default 14.' },
        lower: num('rsi: go long when RSI falls below this. Default 30.', { minimum: 0, maximum: 100 }),
        upper: num('rsi: exit (or go short) when RSI rises above this. Default 70.', { minimum: 0, maximum: 100 }),
        short: { type: 'boolean', description: 'sma-cross, rsi: go short on the opposite signal instead of flat (needs allowShort). Default false.' },
        scale: num('sma-cross, rsi: price scale for integer ticks (100 = cents). Default: the finest decimal grid the closes lie on.', { exclusiveMinimum: 0 }),
        enterAbove: num('model: go long when the prediction is above this. Default 0.'),
        exitBelow: num('model: exit a long when the prediction is below this. Default 0.'),
        shortBelow: num('model: go short when the prediction is below this (needs allowShort). Default: never.'),
        coverAbove: num('model: exit a short when the prediction is above this. Default 0.'),
      },
    },
    period: {
      type: 'object',
      additionalProperties: false,
      description:
        'Which bars trade. { after: training }: only bars after the model\'s training and validation data (the default for a model strategy). { start, end }: from start (inclusive) to end (exclusive). Default for rules: the whole series.',
      properties: {
        after: { enum: ['training'], description: 'Only bars after the upstream model\'s training and validation data.' },
        start: { type: 'string', pattern: DATE_PATTERN, description: 'First bar time, ISO (UTC unless it has an offset).' },
        end: { type: 'string', pattern: DATE_PATTERN, description: 'Stop before this time, ISO.' },
      },
    },
    allowInSample: { type: 'boolean', default: false, description: 'Let an explicit period overlap the model\'s training or validation data; the report then says the result is in-sample.' },
    cash: { type: 'number', exclusiveMinimum: 0, default: 100_000, description: 'Starting cash.' },
    commission: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      default: { perUnit: 0 },
      description: 'Commission per fill: { perUnit } per unit traded, { pct } percent of the notional, or { perOrder } per fill.',
      properties: {
        perUnit: { type: 'number', minimum: 0, description: 'Per unit traded.' },
        pct: { type: 'number', minimum: 0, description: 'Percent of the notional (0.05 = 0.05%).' },
        perOrder: { type: 'number', minimum: 0, description: 'Per fill.' },
      },
    },
    slippage: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Slippage against the trader on market and stop fills.',
      properties: { bps: { type: 'number', minimum: 0, default: 0, description: 'Basis points (1 = 0.01%).' } },
    },
    sizing: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      default: { units: 1 },
      description: 'How much an entry trades: { units: 10 }, or { fraction: 0.1 } of equity at the signal bar\'s close (whole units unless fractional: true).',
      properties: {
        units: { type: 'number', exclusiveMinimum: 0, description: 'Fixed units per entry.' },
        fraction: { type: 'number', exclusiveMinimum: 0, maximum: 10, description: 'Fraction of equity per entry.' },
        fractional: { type: 'boolean', description: 'With fraction: allow fractional units. Default false.' },
      },
    },
    allowShort: { type: 'boolean', default: false, description: 'Whether strategies may go short.' },
    checkpoint: {
      type: 'object',
      additionalProperties: false,
      default: { everySeconds: 30 },
      description: 'When to checkpoint (besides on cancellation and failure): every N bars, or every N seconds. The trade journal is appended, never rewritten.',
      properties: {
        everyBars: { type: 'integer', minimum: 1, description: 'Checkpoint every N bars.' },
        everySeconds: { type: 'number', exclusiveMinimum: 0, description: 'Checkpoint every N seconds.' },
      },
    },
    outputs: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Which result files to write besides metrics.json.',
      properties: {
        csv: { type: 'boolean', default: true, description: 'trades.csv, fills.csv and equity.csv.' },
        arrow: { type: 'boolean', default: true, description: 'trades.arrow and equity.arrow.' },
        html: { type: 'boolean', default: true, description: 'report.html: equity vs buy-and-hold, drawdown, trades on price.' },
      },
    },
  },
};

/** Checks the schema cannot express; paths are relative to the stage's options. */
export function validateOptions(o: BacktestOptions): { path: (string | number)[]; message: string; hint?: string }[] {
  const issues: { path: (string | number)[]; message: string; hint?: string }[] = [];
  const s = o.strategy;
  if (!s) return issues;
  if ((s.type === undefined) === (s.module === undefined)) {
    issues.push({ path: ['strategy'], message: s.type === undefined ? 'set strategy.type or strategy.module' : 'set strategy.type or strategy.module, not both', hint: `Built-in types: ${STRATEGY_TYPES.join(', ')}; or module: ./my-strategy.mjs` });
  }
  if (s.type === 'model' && !s.from) issues.push({ path: ['strategy', 'from'], message: 'a model strategy needs from: the upstream train stage', hint: 'Set strategy.from: train and add train to the stage\'s needs' });
  if (s.type === 'sma-cross' && (s.fast ?? 10) >= (s.slow ?? 50)) issues.push({ path: ['strategy', 'fast'], message: `fast (${s.fast ?? 10}) must be below slow (${s.slow ?? 50})`, hint: 'Set e.g. fast: 10, slow: 50' });
  if (s.type === 'rsi' && (s.lower ?? 30) >= (s.upper ?? 70)) issues.push({ path: ['strategy', 'lower'], message: `lower (${s.lower ?? 30}) must be below upper (${s.upper ?? 70})`, hint: 'Set e.g. lower: 30, upper: 70' });
  const p = o.period;
  if (p) {
    if (p.after && (p.start || p.end)) issues.push({ path: ['period'], message: 'set period.after or period.start/end, not both' });
    if (p.after === 'training' && s.type !== 'model') issues.push({ path: ['period', 'after'], message: 'period.after: training needs a model strategy (type: model)', hint: 'Use period.start/end for rule strategies' });
    if (p.start && p.end && Date.parse(p.start) >= Date.parse(p.end)) issues.push({ path: ['period', 'end'], message: `end (${p.end}) is not after start (${p.start})` });
  }
  if (o.checkpoint.everyBars !== undefined && o.checkpoint.everySeconds !== undefined) issues.push({ path: ['checkpoint'], message: 'set checkpoint.everyBars or checkpoint.everySeconds, not both' });
  if ('fractional' in o.sizing && !('fraction' in o.sizing)) issues.push({ path: ['sizing', 'fractional'], message: 'fractional goes with fraction' });
  if ('units' in o.sizing && 'fraction' in o.sizing) issues.push({ path: ['sizing'], message: 'set sizing.units or sizing.fraction, not both' });
  return issues;
}
