import { deepFreeze } from '../config/load.js';
import { RunnerError, serializeError } from '../errors.js';
import { loadPluginModule } from '../plugin/load.js';
import { RunStore } from '../store/lmdb-store.js';
import { checkpointCodec, createTaskContext } from './task-context.js';
import type { ExecOutcome, TaskChannel, TaskPayload } from './protocol.js';

const stores = new Map<string, RunStore>();

/** One store handle per run directory per thread/process, reused across tasks. */
export function storeFor(runDir: string): RunStore {
  let s = stores.get(runDir);
  if (!s) stores.set(runDir, (s = RunStore.open(runDir)));
  return s;
}

/**
 * Runs one task's plugin and reports how it ended. Never throws: errors come back as data so
 * that they cross thread and process boundaries intact.
 */
export async function executeTask(payload: TaskPayload, channel: TaskChannel): Promise<ExecOutcome> {
  const outcome = await execute(payload, channel);
  channel.post({ type: 'result', outcome });
  channel.close();
  return outcome;
}

async function execute(payload: TaskPayload, channel: TaskChannel): Promise<ExecOutcome> {
  const controller = new AbortController();
  let flush = () => {};
  channel.post({ type: 'started' });
  try {
    const plugin = await loadPluginModule(payload.pluginEntry, payload.pluginSource);
    const store = storeFor(payload.runDir);
    const built = createTaskContext({ ...payload, options: deepFreeze(payload.options) }, store, channel, controller);
    flush = built.flush;
    const result = await plugin.definition.run(built.ctx);
    flush();
    try {
      checkpointCodec.pack(result);
      structuredClone(result);
    } catch (err) {
      throw new RunnerError('RUNNER_PLUGIN_FAILED', `the result of ${payload.info.id} is not plain data: ${(err as Error).message}`, {
        hint: 'Return plain data from run(): objects, arrays, numbers, strings; keep large outputs in artifacts.',
      });
    }
    return { ok: true, result: result === undefined ? null : result };
  } catch (err) {
    flush();
    return { ok: false, error: serializeError(err), aborted: controller.signal.aborted };
  }
}
