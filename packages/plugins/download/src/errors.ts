/**
 * Every error the download plugin raises, with a stable code. Messages start with the series,
 * say what happened (URL without secrets, status, file, line), and the hint says what to do.
 * `retryable: false` marks what a retry of the task cannot fix.
 */

import { PluginError, type PluginErrorOptions } from '@runner/core';

export const DownloadErrorCodes = {
  DOWNLOAD_CHANGED: 'DOWNLOAD_CHANGED',
  DOWNLOAD_CONFIG: 'DOWNLOAD_CONFIG',
  DOWNLOAD_DATA: 'DOWNLOAD_DATA',
  DOWNLOAD_HTTP: 'DOWNLOAD_HTTP',
  DOWNLOAD_NETWORK: 'DOWNLOAD_NETWORK',
  DOWNLOAD_SOURCE: 'DOWNLOAD_SOURCE',
} as const;

export type DownloadErrorCode = keyof typeof DownloadErrorCodes;

/** The core's {@link PluginError} with the download codes; not retryable unless a factory says so. */
export class DownloadError extends PluginError<DownloadErrorCode> {
  override readonly details: Record<string, unknown>;

  constructor(code: DownloadErrorCode, message: string, options: PluginErrorOptions = {}) {
    // The hint also ends the message, so that logs that show only messages still say what to do.
    super(code, options.hint ? `${message}. ${options.hint}` : message, { ...options, retryable: options.retryable ?? false });
    this.name = 'DownloadError';
    this.details = options.details ?? {};
  }
}

export function isDownloadError(err: unknown, code?: DownloadErrorCode): err is DownloadError {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' && c.startsWith('DOWNLOAD_') && (code === undefined || c === code);
}

// ---- factories, one per code, sorted ----

export function seriesChanged(symbol: string, file: string, what: string): DownloadError {
  return new DownloadError('DOWNLOAD_CHANGED', `${symbol}: the new download differs from ${file}: ${what}`, {
    hint: 'The source revised data the stored file already had. The old file is kept (onChange: fail). Set onChange: warn to replace it, or keep both by changing the source options',
    retryable: false,
    details: { file },
  });
}

export function configError(message: string, hint: string): DownloadError {
  return new DownloadError('DOWNLOAD_CONFIG', message, { hint, retryable: false });
}

export function dataError(symbol: string, where: string, message: string, hint?: string, retryable = false): DownloadError {
  return new DownloadError('DOWNLOAD_DATA', `${symbol}: ${where}: ${message}`, {
    hint: hint ?? 'Fix the source data, or adjust the parsing options (columns, timeFormat, naValues, checks)',
    retryable,
    details: { where },
  });
}

export function httpError(
  symbol: string,
  url: string,
  status: number,
  statusText: string,
  attempts: number,
  serverMessage: string | undefined,
  hint: string,
  retryable: boolean,
  note = '',
): DownloadError {
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  const said = serverMessage ? ` (server said: ${serverMessage})` : '';
  return new DownloadError('DOWNLOAD_HTTP', `${symbol}: GET ${url} failed${tries}: HTTP ${status}${statusText ? ' ' + statusText : ''}${said}${note ? '; ' + note : ''}`, {
    hint,
    retryable,
    details: { url, status, attempts },
  });
}

export function networkError(symbol: string, url: string, attempts: number, reason: string, hint: string, cause?: unknown): DownloadError {
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  return new DownloadError('DOWNLOAD_NETWORK', `${symbol}: GET ${url} failed${tries}: ${reason}`, {
    hint,
    retryable: true,
    cause,
    details: { url, attempts },
  });
}

export function sourceError(symbol: string, message: string, hint: string, retryable = false, cause?: unknown): DownloadError {
  return new DownloadError('DOWNLOAD_SOURCE', `${symbol}: ${message}`, { hint, retryable, cause });
}

/** Advice per HTTP status, for the error's hint. */
export function statusHint(status: number, resumeNote: string): string {
  if (status === 401 || status === 403) return `Check the credentials (API key environment variable or headers) and that they allow this request${resumeNote}`;
  if (status === 404 || status === 410) return `Check the symbol and the URL or baseUrl; the server does not have this resource${resumeNote}`;
  if (status === 400 || status === 422) return `The server rejected the request; check the symbol, dates and interval in the source options${resumeNote}`;
  if (status === 429 || status === 418) return `The server is rate limiting: lower rateLimit.perSecond or concurrency, then run again${resumeNote}`;
  if (status >= 500) return `The server keeps failing: check its status, raise retries.max, or run again later${resumeNote}`;
  return `Check the source options${resumeNote}`;
}
