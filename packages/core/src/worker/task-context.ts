import { Packr } from 'msgpackr';
import { mkdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join, normalize, relative, sep } from 'node:path';
import type { Key } from 'lmdb';
import { bigIntPath, jsonReplacer } from '../util/plain-data.js';
import { abortableSleep } from '../util/sleep.js';
import { artifactChanged, artifactMissing, checkpointCorrupt, checkpointUnencodable, errnoCode, RunnerError, storeUnwritable, taskAborted, usage } from '../errors.js';
import { majorOf } from '../plugin/load.js';
import type {
  ArtifactRef,
  ChildRunOptions,
  ChildTaskSpec,
  CheckpointApi,
  CheckpointInfo,
  CheckpointSaveOptions,
  DbKey,
  LoadedCheckpoint,
  Logger,
  PluginDb,
  PluginDbWriter,
  ProgressUpdate,
  TaskContext,
} from '../plugin/types.js';
import type { RunStore } from '../store/lmdb-store.js';
import type { CheckpointRecord } from '../store/types.js';
import { sha256, writeFileAtomic } from '../util/fs.js';
import { checkpointFileFor } from '../util/run-paths.js';
import type { MainMessage, TaskChannel, TaskPayload } from './protocol.js';

/** Checkpoint payloads are msgpack; `moreTypes` keeps typed arrays intact. */
export const checkpointCodec = new Packr({ moreTypes: true, useRecords: false });

export interface CheckpointTarget extends Readonly<TaskPayload['checkpoint']> {
  taskId: string;
  runDir: string;
  attempt: number;
}

export interface CheckpointHooks {
  warn(message: string): void;
  saved(info: CheckpointInfo): void;
}

/** The checkpoint API over the run store: load newest usable, save atomically. */
export function createCheckpointApi(store: RunStore, t: CheckpointTarget, hooks: CheckpointHooks): CheckpointApi {
  let lastSeq = t.lastSeq;
  return {
    async load<S>(): Promise<LoadedCheckpoint<S> | undefined> {
      // Sequence numbers start at 1: none handed out means no checkpoint was ever saved.
      if (lastSeq === 0) return undefined;
      for (const rec of store.listCheckpoints(t.taskId)) {
        const state = await readCheckpoint<S>(rec, t, hooks);
        if (state !== undefined) return { ...infoOf(rec), state: state.value };
      }
      return undefined;
    },
    async save<S>(state: S, options: CheckpointSaveOptions): Promise<CheckpointInfo> {
      if (typeof options?.step !== 'number' || !Number.isFinite(options.step)) {
        throw usage('checkpoint.save(state, { step }) needs a numeric step', 'Pass where the work stands, e.g. the epoch.');
      }
      const seq = ++lastSeq;
      let payload: Uint8Array;
      try {
        payload = checkpointCodec.pack(state);
      } catch (err) {
        throw checkpointUnencodable(t.taskId, err);
      }
      const type = options.type ?? 'periodic';
      const rec: CheckpointRecord = {
        taskId: t.taskId,
        seq,
        type,
        step: options.step,
        total: options.total,
        time: Date.now(),
        size: payload.byteLength,
        checksum: sha256(payload),
        fingerprint: t.fingerprint,
        pluginVersion: t.pluginVersion,
        metrics: options.metrics,
      };
      let saved: { removedFiles: string[]; stale: boolean };
      try {
        if (payload.byteLength > t.inlineMaxBytes) {
          rec.file = checkpointFileFor(t.taskId, seq, t.attempt, type);
          await writeFileAtomic(join(t.runDir, rec.file), payload);
        } else {
          rec.payload = payload;
        }
        saved = await store.saveCheckpoint(rec, t.keep, t.ownerId);
      } catch (err) {
        // The run's disk, not the plugin: the runner stops the run and keeps the task pending.
        throw isDiskError(err) ? storeUnwritable(t.runDir, err) : err;
      }
      const { removedFiles, stale } = saved;
      await Promise.all(removedFiles.map((f) => rm(join(t.runDir, f), { force: true })));
      if (stale) throw taskAborted(t.taskId, 'this runner no longer owns the task (it was reset or taken over); the checkpoint was discarded');
      const info = infoOf(rec);
      hooks.saved(info);
      return info;
    },
  };
}

async function readCheckpoint<S>(rec: CheckpointRecord, t: CheckpointTarget, hooks: CheckpointHooks): Promise<{ value: S } | undefined> {
  const where = `checkpoint #${rec.seq} (${rec.type}, step ${rec.step})`;
  if (rec.fingerprint !== t.fingerprint) {
    hooks.warn(`${where} was saved under other options; not loading it`);
    return undefined;
  }
  if (majorOf(rec.pluginVersion) !== majorOf(t.pluginVersion)) {
    hooks.warn(`${where} was saved by plugin version ${rec.pluginVersion}, now ${t.pluginVersion}; not loading it`);
    return undefined;
  }
  let bytes: Uint8Array;
  if (rec.payload) bytes = rec.payload;
  else if (rec.file) {
    try {
      bytes = await readFile(join(t.runDir, rec.file));
    } catch {
      hooks.warn(artifactMissing(rec.file, t.taskId, 'Trying an older checkpoint.').message + '; trying an older checkpoint');
      return undefined;
    }
  } else return undefined;
  if (bytes.byteLength !== rec.size || sha256(bytes) !== rec.checksum) {
    hooks.warn(checkpointCorrupt(t.taskId, rec.seq, 'checksum mismatch').message + '; trying an older checkpoint');
    return undefined;
  }
  try {
    return { value: checkpointCodec.unpack(bytes) as S };
  } catch (err) {
    hooks.warn(checkpointCorrupt(t.taskId, rec.seq, `cannot decode: ${(err as Error).message}`).message);
    return undefined;
  }
}

export function infoOf(rec: CheckpointRecord): CheckpointInfo {
  const info: CheckpointInfo = { seq: rec.seq, type: rec.type, step: rec.step, time: rec.time, size: rec.size, checksum: rec.checksum };
  if (rec.total !== undefined) info.total = rec.total;
  if (rec.metrics) info.metrics = rec.metrics;
  return info;
}

const pluginDbs = new WeakMap<RunStore, Map<string, PluginDb>>();

/**
 * A plugin's private key/value database inside the run store (what `ctx.db(name)` gives its
 * tasks). CLI commands of a plugin use it to read their data, e.g. on a read-only store.
 */
export function createPluginDb(store: RunStore, plugin: string, name: string): PluginDb {
  if (!/^[\w.-]+$/.test(name)) throw usage(`ctx.db("${name}"): use letters, digits, _, . and -`);
  let dbs = pluginDbs.get(store);
  if (!dbs) pluginDbs.set(store, (dbs = new Map()));
  const key = `plugin:${plugin}:${name}`;
  let out = dbs.get(key);
  if (!out) dbs.set(key, (out = openPluginDb(store, key)));
  return out;
}

function openPluginDb(store: RunStore, name: string): PluginDb {
  const db = store.openDb(name);
  // A read-only store that never had this database: read as empty.
  if (!db) return emptyDb(name);
  const writer: PluginDbWriter = {
    get: <T>(key: DbKey) => db.get(key as Key) as T | undefined,
    put: (key, value) => void db.put(key as Key, value),
    remove: (key) => void db.remove(key as Key),
  };
  return {
    get: <T>(key: DbKey) => db.get(key as Key) as T | undefined,
    *range<T>(options: { start?: DbKey; end?: DbKey; reverse?: boolean; limit?: number } = {}) {
      for (const { key, value } of db.getRange(options as never)) yield { key: key as DbKey, value: value as T };
    },
    transaction: async (fn, options) => {
      const out = await db.transaction(() => fn(writer));
      // lmdb commits with overlappingSync: the commit is visible before its fsync completes.
      if (options?.durable) await db.flushed;
      return out;
    },
    put: async (key, value) => {
      await db.put(key as Key, value);
    },
    remove: async (key) => {
      await db.remove(key as Key);
    },
  };
}

/**
 * Builds the context a plugin's run() receives, wired to a message channel back to the runner.
 * Runs in the worker thread or child process that executes the task.
 */
export function createTaskContext(payload: TaskPayload, store: RunStore, channel: TaskChannel, controller: AbortController): {
  ctx: TaskContext;
  /** The progress not yet sent (it travels with the outcome); stops the pending send. */
  takeProgress(): ProgressUpdate | undefined;
} {
  const { info } = payload;
  // The first progress message waits an interval too: a short task's progress travels with its outcome.
  let lastProgressAt = Date.now();
  let pendingProgress: ProgressUpdate | undefined;
  let timer: NodeJS.Timeout | undefined;
  const sendProgress = () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (!pendingProgress) return;
    channel.post({ type: 'progress', update: pendingProgress });
    pendingProgress = undefined;
    lastProgressAt = Date.now();
  };
  // Logs never fail a task: a BigInt in log data is written as its decimal string.
  const log = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, data?: unknown) =>
    channel.post({ type: 'log', level, message: String(message), data: data === undefined ? undefined : bigIntPath(data, '') !== undefined ? JSON.parse(JSON.stringify(data, jsonReplacer)) : toPlain(data) });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };

  let nextReq = 0;
  const children = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; opts?: ChildRunOptions }>();
  channel.onMessage((msg: MainMessage) => {
    if (msg.type === 'cancel') {
      if (!controller.signal.aborted) controller.abort(taskAborted(info.id, msg.reason));
    } else if (msg.type === 'child-progress') {
      children.get(msg.req)?.opts?.onProgress?.(msg.update);
    } else if (msg.type === 'child-event') {
      children.get(msg.req)?.opts?.onEvent?.(msg.name, msg.data);
    } else if (msg.type === 'child-result') {
      const w = children.get(msg.req);
      if (!w) return;
      children.delete(msg.req);
      if (msg.ok) w.resolve(msg.result);
      else w.reject(Object.assign(new Error(msg.error.message), msg.error));
    }
  });

  const checkpoint = createCheckpointApi(
    store,
    { ...payload.checkpoint, taskId: info.id, runDir: payload.runDir, attempt: info.attempt },
    { warn: (m) => logger.warn(m), saved: (i) => channel.post({ type: 'checkpoint', info: i }) },
  );

  let artifactDirMade = false;
  const ctx: TaskContext = {
    options: payload.options,
    task: info,
    signal: controller.signal,
    checkpoint,
    log: logger,
    sleep: (ms: number) => abortableSleep(ms, controller.signal),
    progress(update: ProgressUpdate) {
      for (const [k, v] of Object.entries(update?.metrics ?? {})) {
        if (typeof v !== 'number') throw usage(`ctx.progress(): metrics.${k} must be a number (got ${typeof v === 'bigint' ? `the BigInt ${v}n` : typeof v})`, 'Metrics are plotted and stored as JSON numbers; convert with Number().');
      }
      pendingProgress = { ...pendingProgress, ...update };
      const due = lastProgressAt + payload.progressIntervalMs - Date.now();
      if (due <= 0) sendProgress();
      else timer ??= setTimeout(sendProgress, due);
    },
    emit(name: string, data?: unknown) {
      const big = bigIntPath(data, 'data');
      if (big) throw usage(`ctx.emit('${String(name)}', data): ${big} is a BigInt`, 'Events are written to events.jsonl as JSON, which has no BigInt: convert it with Number() or String().');
      channel.post({ type: 'event', name: String(name), data: data === undefined ? undefined : toPlain(data) });
    },
    get artifactDir() {
      if (!artifactDirMade) {
        try {
          mkdirSync(payload.artifactDir, { recursive: true });
        } catch (err) {
          throw isDiskError(err) ? storeUnwritable(payload.runDir, err) : err;
        }
        artifactDirMade = true;
      }
      return payload.artifactDir;
    },
    runDir: payload.runDir,
    dataDir: payload.dataDir,
    upstream: payload.upstream,
    resources: payload.resources,
    async writeArtifact(name: string, data: Uint8Array | string): Promise<ArtifactRef> {
      const target = normalize(join(payload.artifactDir, name));
      if (!target.startsWith(payload.artifactDir + sep)) throw usage(`writeArtifact("${name}"): the name must stay inside the task's artifact directory`);
      const { size, sha256: sum } = await writeFileAtomic(target, data);
      return { path: relative(payload.runDir, target), size, sha256: sum };
    },
    async readArtifact(ref: ArtifactRef): Promise<Buffer> {
      let bytes: Buffer;
      try {
        bytes = await readFile(join(payload.runDir, ref.path));
      } catch {
        throw artifactMissing(join(payload.runDir, ref.path), info.id);
      }
      if (sha256(bytes) !== ref.sha256) {
        throw artifactChanged(ref.path, info.id);
      }
      return bytes;
    },
    runChild<R>(spec: ChildTaskSpec, opts?: ChildRunOptions): Promise<R> {
      const req = ++nextReq;
      return new Promise<R>((resolve, reject) => {
        children.set(req, { resolve: resolve as (v: unknown) => void, reject, opts });
        channel.post({ type: 'child', req, spec: toPlain(spec) as typeof spec });
        const signal = opts?.signal;
        if (signal) {
          const cancel = () => channel.post({ type: 'child-cancel', req, reason: String((signal.reason as Error)?.message ?? signal.reason ?? 'cancelled by its parent') });
          if (signal.aborted) cancel();
          else signal.addEventListener('abort', cancel, { once: true });
        }
      });
    },
    db(name: string) {
      return createPluginDb(store, info.plugin, name);
    },
  };
  const takeProgress = () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const p = pendingProgress;
    pendingProgress = undefined;
    return p;
  };
  return { ctx, takeProgress };
}

function emptyDb(name: string): PluginDb {
  const refuse = () => Promise.reject(new Error(`${name} is read-only here`));
  return {
    get: () => undefined,
    *range() {},
    transaction: refuse,
    put: refuse,
    remove: refuse,
  };
}

/** Drops what cannot cross a thread boundary (functions, symbols), keeping the data. */
function toPlain(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return JSON.parse(JSON.stringify(v, jsonReplacer));
  }
}

/** A system error (errno) or a failed LMDB commit, as opposed to a bug or a refused write. */
function isDiskError(err: unknown): boolean {
  return errnoCode(err) !== undefined || (err as { commitError?: unknown })?.commitError !== undefined;
}
