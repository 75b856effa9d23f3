/**
 * Child-process entry for tasks with `isolation: process`: one task per process, e.g. for native
 * libraries that cannot be loaded twice in one process. Exits when the runner goes away.
 */
import { ignoreCommitEchoes } from './commit-echo.js';
import { executeTask } from './execute.js';
import type { MainMessage, TaskPayload, WorkerMessage } from './protocol.js';

type FromRunner = { type: 'run'; payload: TaskPayload } | MainMessage;

// The runner is gone (killed with SIGKILL, say): stop at once, without exit hooks that could wait
// on anything. Everything the task committed is in the store already; the rest is what a kill loses.
const orphaned = () => process.kill(process.pid, 'SIGKILL');
process.on('disconnect', orphaned);
// 'disconnect' needs a free event loop; a task that keeps it busy is caught by the parent pid.
const parent = process.ppid;
setInterval(() => {
  if (!process.connected || process.ppid !== parent) orphaned();
}, 1000).unref();
ignoreCommitEchoes();

const handlers: ((m: MainMessage) => void)[] = [];
process.on('message', (m: FromRunner) => {
  if (m.type === 'run') {
    void executeTask(m.payload, {
      post: (msg: WorkerMessage) => process.send?.(msg),
      onMessage: (h) => handlers.push(h),
      close: () => {},
    }).then(() => {
      // The outcome went out as the 'result' message; exit once everything is sent.
      process.send?.({ type: 'done' }, () => process.exit(0));
    });
  } else {
    for (const h of handlers) h(m);
  }
});
process.send?.({ type: 'ready' });
