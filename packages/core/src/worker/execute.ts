import { deepFreeze } from '../util/object.js';
import { pluginResultBigInt, pluginResultInvalid, serializeError } from '../errors.js';
import { loadPluginModule } from '../plugin/load.js';
import { RunStore } from '../store/lmdb-store.js';
import { bigIntPath } from '../util/plain-data.js';
import { checkpointCodec, createTaskContext } from './task-context.js';
import type { ExecOutcome, TaskChannel, TaskPayload } from './protocol.js';

const stores = new Map<string, RunStore>();

/** One store handle per run directory per thread/process, reused across tasks. */
export function storeFor(runDir: string): RunStore {
  let s = stores.get(runDir);
  // The runner that sent this task opened and checked the store before it started any task.
  if (!s) stores.set(runDir, (s = RunStore.open(runDir, { checked: true })));
  return s;
}

/**
 * Runs one task's plugin and reports how it ended. Never throws: errors come back as data so
 * that they cross thread and process boundaries intact.
 */
export async function executeTask(payload: TaskPayload, channel: TaskChannel): Promise<ExecOutcome> {
  let outcome = await execute(payload, channel);
  try {
    channel.post({ type: 'result', outcome });
  } catch (err) {
    // The result could not be copied to the runner (e.g. it holds a function).
    outcome = { ok: false, aborted: false, error: serializeError(pluginResultInvalid(payload.info.id, err)) };
    channel.post({ type: 'result', outcome });
  }
  channel.close();
  return outcome;
}

/** Tasks shorter than this send no 'started' message: one message per task is all they cost. */
const STARTED_AFTER_MS = 50;

async function execute(payload: TaskPayload, channel: TaskChannel): Promise<ExecOutcome> {
  const controller = new AbortController();
  const t0 = Date.now();
  let takeProgress: () => ExecOutcome['progress'] = () => undefined;
  const started = setTimeout(() => channel.post({ type: 'started' }), STARTED_AFTER_MS);
  try {
    const plugin = await loadPluginModule(payload.pluginEntry, payload.pluginSource);
    const store = storeFor(payload.runDir);
    const built = createTaskContext({ ...payload, options: deepFreeze(payload.options) }, store, channel, controller);
    takeProgress = built.takeProgress;
    const result = await plugin.definition.run(built.ctx);
    const big = bigIntPath(result, 'result');
    if (big) {
      throw pluginResultBigInt(payload.info.id, big);
    }
    try {
      checkpointCodec.pack(result);
    } catch (err) {
      throw pluginResultInvalid(payload.info.id, err);
    }
    return { ok: true, result: result === undefined ? null : result, progress: takeProgress(), execMs: Date.now() - t0 };
  } catch (err) {
    return { ok: false, error: serializeError(err), aborted: controller.signal.aborted, progress: takeProgress(), execMs: Date.now() - t0 };
  } finally {
    clearTimeout(started);
  }
}
