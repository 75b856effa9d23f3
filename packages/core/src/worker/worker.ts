/**
 * Piscina worker entry: one call per task. Messages to the runner (progress, logs, checkpoint
 * notices, child-task requests) go through the worker's parentPort; messages from the runner
 * (cancel, child results) arrive on a BroadcastChannel and are routed by task id. This avoids a
 * MessageChannel per task, which dominated the cost of short tasks.
 */
import { BroadcastChannel, parentPort } from 'node:worker_threads';
import { ignoreCommitEchoes } from './commit-echo.js';
import { executeTask } from './execute.js';
import { ENVELOPE, type MainMessage, type TaskPayload } from './protocol.js';

ignoreCommitEchoes();

const channels = new Map<string, BroadcastChannel>();
const handlers = new Map<string, (m: MainMessage) => void>();

function listen(name: string): void {
  if (channels.has(name)) return;
  const ch = new BroadcastChannel(name);
  (ch as unknown as { unref(): void }).unref();
  ch.onmessage = (ev) => {
    const { t, m } = (ev as MessageEvent).data as { t: string; m: MainMessage };
    handlers.get(t)?.(m);
  };
  channels.set(name, ch);
}

/** The outcome reaches the runner as the task's last parentPort message; piscina's result is unused. */
export default async function runTask(payload: TaskPayload & { channel: string }): Promise<void> {
  const { channel, ...rest } = payload;
  listen(channel);
  const id = rest.info.id;
  await executeTask(rest, {
    post: (msg) => parentPort!.postMessage({ [ENVELOPE]: id, m: msg }),
    onMessage: (handler) => handlers.set(id, handler),
    close: () => handlers.delete(id),
  });
}
