import { quietCommitError } from '../errors.js';

/**
 * lmdb-js rejects a failed commit's writes a second time (`commitError`); the task already got
 * the error from its own await, so that echo must not take the whole thread or process down.
 * Any other unhandled rejection still does.
 */
export function ignoreCommitEchoes(): void {
  process.on('unhandledRejection', (reason) => {
    quietCommitError(reason);
    if ((reason as { commitError?: unknown })?.commitError !== undefined || /^Commit failed/.test(String((reason as Error)?.message))) return;
    throw reason;
  });
}
