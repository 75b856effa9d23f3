/**
 * Every error the paper plugin raises, with a stable code. Messages start with what they concern
 * (the task, the feed URL, the series file), say what happened, and the hint says what to do.
 * `retryable: false` marks what a retry of the task cannot fix. Listed in docs/paper.md.
 */

export const PaperErrorCodes = {
  PAPER_CONFIG: 'PAPER_CONFIG',
  PAPER_DATA: 'PAPER_DATA',
  PAPER_FEED: 'PAPER_FEED',
  PAPER_STATE: 'PAPER_STATE',
} as const;

export type PaperErrorCode = keyof typeof PaperErrorCodes;

export class PaperError extends Error {
  readonly code: PaperErrorCode;
  readonly hint: string | undefined;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;
  /** The spec's or the data's fault: a run whose failures are all bad input exits 2. */
  readonly badInput: boolean;

  constructor(code: PaperErrorCode, message: string, options: { hint?: string; retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(options.hint ? `${message}. ${options.hint}` : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PaperError';
    this.code = code;
    this.hint = options.hint;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
    this.badInput = code === 'PAPER_CONFIG' || code === 'PAPER_DATA' || code === 'PAPER_FEED';
  }
}

export function isPaperError(err: unknown, code?: PaperErrorCode): err is PaperError {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' && c.startsWith('PAPER_') && (code === undefined || c === code);
}

// ---- factories, one per code, sorted ----

export function configError(message: string, hint: string): PaperError {
  return new PaperError('PAPER_CONFIG', message, { hint, retryable: false });
}

export function dataError(file: string, message: string, hint: string): PaperError {
  return new PaperError('PAPER_DATA', `${file}: ${message}`, { hint, retryable: false, details: { file } });
}

export function feedConfig(url: string, message: string, hint: string): PaperError {
  return new PaperError('PAPER_FEED', `feed ${url}: ${message}`, { hint, retryable: false, details: { url } });
}

export function stateError(taskId: string, message: string, hint: string): PaperError {
  return new PaperError('PAPER_STATE', `${taskId}: ${message}`, { hint, retryable: false });
}
