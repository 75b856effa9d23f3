/**
 * Every error the backtest plugin (and its engine) raises, with a stable code. Messages start
 * with the cell or series, say what happened (file, column, bar, value), and the hint says what
 * to do. `retryable: false` marks what a retry of the task cannot fix; the CLI exits 2 for those
 * that are the spec's fault (`BACKTEST_CONFIG`, `BACKTEST_DATA`, `BACKTEST_PERIOD`,
 * `BACKTEST_STRATEGY`).
 */

export const BacktestErrorCodes = {
  BACKTEST_CONFIG: 'BACKTEST_CONFIG',
  BACKTEST_DATA: 'BACKTEST_DATA',
  BACKTEST_ENGINE: 'BACKTEST_ENGINE',
  BACKTEST_FEATURES: 'BACKTEST_FEATURES',
  BACKTEST_PERIOD: 'BACKTEST_PERIOD',
  BACKTEST_STRATEGY: 'BACKTEST_STRATEGY',
} as const;

export type BacktestErrorCode = keyof typeof BacktestErrorCodes;

const BAD_INPUT = new Set<BacktestErrorCode>(['BACKTEST_CONFIG', 'BACKTEST_DATA', 'BACKTEST_FEATURES', 'BACKTEST_PERIOD', 'BACKTEST_STRATEGY']);

export class BacktestError extends Error {
  readonly code: BacktestErrorCode;
  readonly hint: string | undefined;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;
  /** The spec's or the input data's fault: a run failing only on such errors exits 2. */
  readonly badInput: boolean;

  constructor(code: BacktestErrorCode, message: string, options: { hint?: string; retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(options.hint ? `${message}. ${options.hint}` : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BacktestError';
    this.code = code;
    this.hint = options.hint;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
    this.badInput = BAD_INPUT.has(code);
  }
}

export function isBacktestError(err: unknown, code?: BacktestErrorCode): err is BacktestError {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' && c.startsWith('BACKTEST_') && (code === undefined || c === code);
}

// ---- factories, one per code, sorted ----

export function configError(where: string, message: string, hint: string): BacktestError {
  return new BacktestError('BACKTEST_CONFIG', `${where}: ${message}`, { hint, details: { where } });
}

export function dataError(where: string, file: string, column: string, message: string, hint?: string): BacktestError {
  return new BacktestError('BACKTEST_DATA', `${where}: ${file}: column ${column}: ${message}`, {
    hint: hint ?? 'Fix the series (re-download it, or drop the bad rows at the source), or point data.from at another stage',
    details: { where, file, column },
  });
}

export function engineError(message: string, hint: string, details: Record<string, unknown> = {}): BacktestError {
  return new BacktestError('BACKTEST_ENGINE', message, { hint, details });
}

export function featuresError(where: string, file: string, message: string, hint: string): BacktestError {
  return new BacktestError('BACKTEST_FEATURES', `${where}: ${file}: ${message}`, { hint, details: { where, file } });
}

export function periodError(where: string, message: string, hint: string): BacktestError {
  return new BacktestError('BACKTEST_PERIOD', `${where}: ${message}`, { hint, details: { where } });
}

export function strategyError(where: string, message: string, hint: string, cause?: unknown): BacktestError {
  return new BacktestError('BACKTEST_STRATEGY', `${where}: ${message}`, { hint, cause, details: { where } });
}
