/**
 * The download plugin's options: the JSON schema (the single source of defaults and descriptions)
 * and the TypeScript types that mirror it. `source` is a tagged union on `type`; each variant is
 * an `if/then` branch so that ajv fills its defaults and rejects unknown keys by name.
 */
import type { JSONSchema } from '@runner/core';

export const SOURCE_TYPES = ['synthetic', 'file', 'http-csv', 'fred', 'binance-klines', 'stooq'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export const BINANCE_INTERVALS = ['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M'] as const;

const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?)?$';
const INTERVAL_PATTERN = '^[1-9]\\d*(s|m|h|d|w|M)$';

const date = (description: string, def?: string): JSONSchema => ({
  type: 'string',
  pattern: DATE_PATTERN,
  description: `${description} ISO date or date-time (UTC unless it has an offset), e.g. 2024-01-01 or 2024-01-01T12:00:00Z.`,
  ...(def === undefined ? {} : { default: def }),
});

/** Options shared by every source that parses a table (CSV, Parquet, Arrow). */
const tableOptions: Record<string, JSONSchema> = {
  timeColumn: {
    type: 'string',
    default: 'auto',
    description: 'Column holding the timestamp. "auto" picks the first of time, timestamp, date, datetime, open_time, ts (any case), else the first column.',
  },
  timeFormat: {
    enum: ['auto', 'iso', 'yyyymmdd', 's', 'ms', 'us', 'ns'],
    default: 'auto',
    description:
      'How timestamps are written. "auto": ISO dates/date-times as text, 8-digit numbers as YYYYMMDD, other numbers as epoch seconds/ms/µs/ns by magnitude. Times without an offset are UTC.',
  },
  columns: {
    type: 'object',
    additionalProperties: { type: 'string', minLength: 1 },
    default: {},
    description:
      'Output column → input column, e.g. { close: "Adj Close" }. Empty: keep every numeric column, names lower-cased with spaces as _ ("Adj Close" → adj_close).',
  },
  delimiter: { type: 'string', default: 'auto', description: 'CSV field delimiter; "auto" detects , ; tab or |.' },
  header: { type: 'boolean', default: true, description: 'Whether the first CSV line names the columns. Without a header, `names` is required.' },
  names: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Column names for a CSV file without a header line.' },
  naValues: {
    type: 'array',
    items: { type: 'string' },
    default: ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', '.'],
    description: 'Cell values read as missing (NaN). Any other non-numeric value is an error naming its line.',
  },
};

const sourceVariants: Record<SourceType, { description: string; properties: Record<string, JSONSchema>; required?: string[] }> = {
  synthetic: {
    description: 'A seeded geometric random walk of OHLCV bars; no network. The same seed and symbol give the same bytes.',
    properties: {
      interval: { type: 'string', pattern: INTERVAL_PATTERN, default: '1d', description: 'Bar length, e.g. 1m, 1h, 1d, 1w, 1M (s m h d w M).' },
      start: date('Time of the first bar.', '2020-01-01'),
      end: date('Stop before this time; overrides `bars` when set.'),
      bars: { type: 'integer', minimum: 1, maximum: 50_000_000, default: 1000, description: 'How many bars to generate (unless `end` is set).' },
      seed: { type: 'integer', default: 42, description: 'Random seed; mixed with the symbol so each symbol gets its own path.' },
      price: { type: 'number', exclusiveMinimum: 0, default: 100, description: 'Opening price of the first bar.' },
      drift: { type: 'number', default: 0.0002, description: 'Mean log return per bar.' },
      volatility: { type: 'number', minimum: 0, default: 0.01, description: 'Standard deviation of the log return per bar.' },
      volume: { type: 'number', minimum: 0, default: 1_000_000, description: 'Median volume per bar.' },
      signal: {
        type: 'object',
        description:
          'A known, modest predictable component planted in the returns, so a model has something real to learn (absent: a pure random walk). `ar1`: each log return keeps `strength` × the previous one (an AR(1) process with the same overall volatility).',
        additionalProperties: false,
        required: ['type'],
        properties: {
          type: { enum: ['ar1'], description: 'The kind of predictable component.' },
          strength: { type: 'number', minimum: -0.9, maximum: 0.9, default: 0.1, description: 'AR(1) coefficient of the log returns: the correlation of one bar\'s return with the next.' },
          symbols: {
            type: 'array',
            items: { type: 'string', minLength: 1 },
            description: 'Only these symbols get the component; the others stay random walks (controls). Default: every symbol.',
          },
        },
      },
    },
  },
  file: {
    description: 'A local CSV, Parquet or Arrow file per symbol.',
    required: ['path'],
    properties: {
      path: {
        type: 'string',
        minLength: 1,
        description: 'File path; {symbol} is replaced by the symbol. Relative paths start at the directory `runner` was started in.',
      },
      format: { enum: ['auto', 'csv', 'parquet', 'arrow'], default: 'auto', description: 'File format; "auto" goes by the extension (.csv/.tsv/.txt, .parquet/.pq, .arrow/.feather/.ipc).' },
      interval: { type: 'string', pattern: INTERVAL_PATTERN, description: 'Expected bar length, for the gap report. Default: the median spacing.' },
      ...tableOptions,
    },
  },
  'http-csv': {
    description: 'A CSV file per symbol from a URL template. Large files resume with Range requests.',
    required: ['url'],
    properties: {
      url: {
        type: 'string',
        pattern: '^https?://',
        description:
          'URL template: {symbol}, {start}/{end} (as written), {startMs}/{endMs} (epoch ms), {startSec}/{endSec}, {startYmd}/{endYmd} (YYYYMMDD).',
      },
      start: date('Fills {start} in the URL template.', '1970-01-01'),
      end: date('Fills {end} in the URL template. Default: now (the file is then refreshed per `maxAge`).'),
      headers: {
        type: 'object',
        additionalProperties: { type: 'string' },
        default: {},
        description: 'Request headers. "${env:NAME}" in a value is replaced by the environment variable NAME, so secrets stay out of job specs.',
      },
      interval: { type: 'string', pattern: INTERVAL_PATTERN, description: 'Expected bar length, for the gap report. Default: the median spacing.' },
      ...tableOptions,
    },
  },
  fred: {
    description: 'FRED (St. Louis Fed) series observations; the symbol is the series id, e.g. DGS10. "." is read as missing.',
    properties: {
      start: date('First observation date.', '1776-07-04'),
      end: date('Last observation date. Default: the latest.'),
      apiKeyEnv: { type: 'string', minLength: 1, default: 'FRED_API_KEY', description: 'Environment variable holding the FRED API key.' },
      baseUrl: { type: 'string', pattern: '^https?://', default: 'https://api.stlouisfed.org', description: 'API base URL.' },
      units: { type: 'string', default: 'lin', description: 'FRED `units` transformation: lin, chg, ch1, pch, pc1, pca, cch, cca, log.' },
      frequency: { type: 'string', default: '', description: 'FRED `frequency` aggregation, e.g. m, q, a; empty = native.' },
      pageSize: { type: 'integer', minimum: 1, maximum: 100_000, default: 100_000, description: 'Observations per request (FRED allows at most 100000).' },
    },
  },
  'binance-klines': {
    description: 'Candlesticks from a Binance-style klines API, paged by time (startTime/endTime/limit).',
    properties: {
      interval: { enum: [...BINANCE_INTERVALS], default: '1h', description: 'Kline interval.' },
      start: date('Open time of the first bar.', '2024-01-01'),
      end: date('Stop before this open time. Default: now; the bar still forming is left out.'),
      baseUrl: { type: 'string', pattern: '^https?://', default: 'https://api.binance.com', description: 'API base URL (e.g. https://fapi.binance.com for futures).' },
      path: { type: 'string', default: '/api/v3/klines', description: 'Endpoint path (/fapi/v1/klines for USDⓈ-M futures).' },
      limit: { type: 'integer', minimum: 1, maximum: 1000, default: 1000, description: 'Bars per page (Binance allows at most 1000 on spot).' },
    },
  },
  stooq: {
    description: 'Daily, weekly or monthly bars as CSV in Stooq\'s format (Date,Open,High,Low,Close,Volume).',
    properties: {
      interval: { enum: ['1d', '1w', '1M'], default: '1d', description: 'Bar length.' },
      start: date('First date.', '1970-01-01'),
      end: date('Last date. Default: today (the file is then refreshed per `maxAge`).'),
      baseUrl: { type: 'string', pattern: '^https?://', default: 'https://stooq.com', description: 'Base URL.' },
      suffix: { type: 'string', default: '', description: 'Appended to symbols without a dot, e.g. ".us" turns AAPL into aapl.us.' },
    },
  },
};

function sourceSchema(): JSONSchema {
  return {
    type: 'object',
    description: 'Where the series come from. `type` selects the source; the other keys depend on it.',
    required: ['type'],
    default: { type: 'synthetic' },
    properties: {
      type: {
        enum: [...SOURCE_TYPES],
        description: Object.entries(sourceVariants)
          .map(([k, v]) => `${k}: ${v.description}`)
          .join(' '),
      },
    },
    allOf: Object.entries(sourceVariants).map(([type, v]) => ({
      if: { properties: { type: { const: type } }, required: ['type'] },
      then: {
        additionalProperties: false,
        required: v.required ?? [],
        properties: { type: { const: type, description: v.description }, ...v.properties },
      },
    })),
  };
}

export const optionsSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    source: sourceSchema(),
    symbol: { type: 'string', minLength: 1, description: "The series to fetch. Default: the matrix cell's `symbol`." },
    symbols: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      uniqueItems: true,
      default: [],
      description: 'Fetch these series in one task instead of one per cell; the result then lists them under `series`.',
    },
    concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 64,
      default: 4,
      description: 'Requests in flight per task: pages of one series, or series of a `symbols` list.',
    },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Requests per host, shared by every task of the run.',
      properties: {
        perSecond: { type: 'number', minimum: 0, default: 10, description: 'Sustained requests per second per host (0 = unlimited).' },
        burst: { type: 'integer', minimum: 1, default: 1, description: 'Requests that may go out at once before the rate applies.' },
      },
    },
    retries: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Retries of one request: exponential backoff with full jitter, honouring Retry-After on 429/503. Other 4xx are not retried.',
      properties: {
        max: { type: 'integer', minimum: 0, default: 6, description: 'Retries after the first failure of a request.' },
        baseMs: { type: 'integer', minimum: 0, default: 500, description: 'Backoff base: retry n waits a random time in [0, baseMs × 2^(n-1)].' },
        maxMs: { type: 'integer', minimum: 0, default: 30_000, description: 'Cap of the backoff window, in milliseconds.' },
        maxRetryAfterMs: {
          type: 'integer',
          minimum: 0,
          default: 300_000,
          description: 'Longest Retry-After the plugin waits for; a server asking for more fails the request.',
        },
      },
    },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Per-request timeouts; a timeout counts as a failed attempt and is retried.',
      properties: {
        connectMs: { type: 'integer', minimum: 1, default: 10_000, description: 'Time to open the connection.' },
        headersMs: { type: 'integer', minimum: 1, default: 30_000, description: 'Time until the response headers arrive.' },
        idleMs: { type: 'integer', minimum: 1, default: 30_000, description: 'Longest pause while the body streams.' },
      },
    },
    checks: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Data checks run before a series is stored.',
      properties: {
        sort: { type: 'boolean', default: false, description: 'Sort rows by time first (for sources that list newest first). Otherwise out-of-order rows are an error.' },
        duplicates: {
          enum: ['error', 'first', 'last'],
          default: 'error',
          description: 'Rows with a repeated timestamp: fail, keep the first, or keep the last.',
        },
        calendar: {
          enum: ['auto', 'continuous', 'weekdays'],
          default: 'auto',
          description:
            'What counts as a gap: "continuous" expects every interval, "weekdays" skips Saturdays and Sundays. "auto": weekdays for stooq and daily CSV/FRED data, continuous otherwise.',
        },
      },
    },
    refresh: { type: 'boolean', default: false, description: 'Download again even when a complete file for the same source is in the data directory.' },
    maxAge: {
      type: 'string',
      pattern: '^(never|\\d+(\\.\\d+)?(ms|s|m|h|d|w))$',
      default: 'never',
      description: 'Download again when the stored file is older than this, e.g. 12h or 1d (for series that run up to "now").',
    },
    onChange: {
      enum: ['warn', 'fail'],
      default: 'warn',
      description:
        'When a new download differs from the stored file over the time range both cover: "warn" replaces the file and reports it; "fail" keeps the old file and fails the task.',
    },
  },
};

export interface TableOptions {
  timeColumn: string;
  timeFormat: 'auto' | 'iso' | 'yyyymmdd' | 's' | 'ms' | 'us' | 'ns';
  columns: Record<string, string>;
  delimiter: string;
  header: boolean;
  names: string[];
  naValues: string[];
}

export interface SyntheticSource {
  type: 'synthetic';
  interval: string;
  start: string;
  end?: string;
  bars: number;
  seed: number;
  price: number;
  drift: number;
  volatility: number;
  volume: number;
  signal?: { type: 'ar1'; strength: number; symbols?: string[] };
}

export interface FileSource extends TableOptions {
  type: 'file';
  path: string;
  format: 'auto' | 'csv' | 'parquet' | 'arrow';
  interval?: string;
}

export interface HttpCsvSource extends TableOptions {
  type: 'http-csv';
  url: string;
  start: string;
  end?: string;
  headers: Record<string, string>;
  interval?: string;
}

export interface FredSource {
  type: 'fred';
  start: string;
  end?: string;
  apiKeyEnv: string;
  baseUrl: string;
  units: string;
  frequency: string;
  pageSize: number;
}

export interface BinanceSource {
  type: 'binance-klines';
  interval: (typeof BINANCE_INTERVALS)[number];
  start: string;
  end?: string;
  baseUrl: string;
  path: string;
  limit: number;
}

export interface StooqSource {
  type: 'stooq';
  interval: '1d' | '1w' | '1M';
  start: string;
  end?: string;
  baseUrl: string;
  suffix: string;
}

export type SourceOptions = SyntheticSource | FileSource | HttpCsvSource | FredSource | BinanceSource | StooqSource;

export interface DownloadOptions {
  source: SourceOptions;
  symbol?: string;
  symbols: string[];
  concurrency: number;
  rateLimit: { perSecond: number; burst: number };
  retries: { max: number; baseMs: number; maxMs: number; maxRetryAfterMs: number };
  timeouts: { connectMs: number; headersMs: number; idleMs: number };
  checks: { sort: boolean; duplicates: 'error' | 'first' | 'last'; calendar: 'auto' | 'continuous' | 'weekdays' };
  refresh: boolean;
  maxAge: string;
  onChange: 'warn' | 'fail';
}

/** Options that change how a download runs but never what it produces. */
export const OPERATIONAL_OPTIONS = ['concurrency', 'rateLimit', 'retries', 'timeouts'] as const;
