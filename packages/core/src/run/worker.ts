/**
 * Piscina worker entry: one call per task. The task's MessagePort carries progress, logs,
 * checkpoint notices and child-task requests to the runner, and cancellation back.
 */
import type { MessagePort } from 'node:worker_threads';
import { executeTask } from './execute.js';
import type { ExecOutcome, MainMessage, TaskPayload } from './protocol.js';

export default async function runTask(payload: TaskPayload & { port: MessagePort }): Promise<ExecOutcome> {
  const { port, ...rest } = payload;
  return executeTask(rest, {
    post: (msg) => port.postMessage(msg),
    onMessage: (handler) => port.on('message', (m: MainMessage) => handler(m)),
    close: () => port.close(),
  });
}
