/**
 * A test kit for plugin authors: run a plugin in-process against a real run store, interrupt it
 * at a chosen step (a simulated kill -9, or a cooperative cancel), resume it, and check that the
 * result equals an uninterrupted run.
 *
 * @example
 * ```ts
 * import { testResume } from '@runner/core/testing';
 * import plugin from '../src/index.js';
 *
 * test('resumes exactly', async () => {
 *   const report = await testResume(plugin, { steps: 50, checkpointEvery: 10 }, {
 *     normalize: (r) => r.value,
 *   });
 *   expect(report.points.length).toBeGreaterThan(0);
 * });
 * ```
 */
import { isDeepStrictEqual } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveStageOptions } from '../config/options.js';
import { formatPath } from '../config/source.js';
import { serializeError, type SerializedError } from '../errors.js';
import { checkDefinition } from '../plugin/load.js';
import type {
  CheckpointInfo,
  ChildRunOptions,
  ChildTaskSpec,
  Logger,
  PluginDefinition,
  ProgressUpdate,
  TaskContext,
  TaskInfo,
  UpstreamTask,
} from '../plugin/types.js';
import { optionsFingerprint } from '../run/plan.js';
export { spawnRunner, runRunner, runnerJson, tempProject, RUNNER_BIN, type RunnerCliOptions, type RunnerResult, type SpawnedRunner } from './cli.js';
export { documentedErrorCodes } from './docs.js';
import { buildTaskPayload } from '../run/payload/build.js';
import type { WorkerMessage } from '../worker/protocol.js';
import { createTaskContext } from '../worker/task-context.js';
import { RunStore } from '../store/lmdb-store.js';
import type { OwnerRef } from '../store/types.js';

export interface RunPluginOptions {
  /** Run directory; reuse one across calls to resume. Default: a new temporary directory. */
  dir?: string;
  /** Task identity; the id defaults to `test/cycle=1`. */
  task?: Partial<Pick<TaskInfo, 'id' | 'stage' | 'cell' | 'cycle'>>;
  upstream?: Record<string, UpstreamTask | UpstreamTask[]>;
  /** Simulate a kill -9 when the plugin reports progress at or past this step. */
  crashAtStep?: number;
  /** Fire the task's signal when the plugin reports progress at or past this step. */
  cancelAtStep?: number;
  /** Serves ctx.runChild (with its onProgress/onEvent/signal options); without it, runChild throws. */
  runChild?: (spec: ChildTaskSpec, options?: ChildRunOptions) => Promise<unknown>;
  /** The shared data directory (`ctx.dataDir`). Default: `<dir>/data`. */
  dataDir?: string;
  /** Keep checkpoint payloads up to this size in the store. @default 65536 */
  inlineMaxBytes?: number;
  /** Checkpoints kept per task. @default 3 */
  keep?: number;
  /** Print plugin logs. */
  verbose?: boolean;
}

export interface PluginRun<R = unknown> {
  outcome: 'completed' | 'failed' | 'crashed' | 'cancelled';
  result?: R;
  error?: SerializedError;
  dir: string;
  attempt: number;
  checkpoints: CheckpointInfo[];
  progress: ProgressUpdate[];
  logs: { level: string; message: string }[];
  events: { name: string; data?: unknown }[];
  /** The step of the checkpoint this attempt resumed from, if any. */
  resumedFrom?: number;
}

class SimulatedCrash extends Error {
  constructor(step: number) {
    super(`simulated kill -9 at step ${step}`);
    this.name = 'SimulatedCrash';
  }
}

const TEST_OWNER_PREFIX = 'testkit:';

/**
 * Runs `plugin` once with `options` (validated and defaulted against its schema) against a real
 * LMDB store in `dir`. Calling it again with the same `dir` resumes the task, exactly as the
 * runner does after a restart.
 */
export async function runPlugin<O extends object, R>(
  plugin: PluginDefinition<O, R>,
  options: Partial<O> = {},
  run: RunPluginOptions = {},
): Promise<PluginRun<R>> {
  const loaded = checkDefinition(plugin, '(test)', 'path');
  // As in a job spec, `${params.x}` placeholders pass; the value is checked when it is filled.
  const { options: opts, issues } = resolveStageOptions({ schema: loaded.schema, layers: [options], allowPlaceholders: true });
  if (issues.length > 0) throw new Error(`invalid options: ${issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`);
  const dir = run.dir ?? mkdtempSync(join(tmpdir(), 'runner-test-'));
  const id = run.task?.id ?? 'test/cycle=1';
  const store = RunStore.open(dir);
  const fp = optionsFingerprint(loaded, opts);
  try {
    await store.initMeta('test', '(test)');
    await store.syncPlan(
      [
        {
          id,
          stage: run.task?.stage ?? id.split('/')[0]!,
          plugin: loaded.name,
          cell: run.task?.cell ?? {},
          cycle: run.task?.cycle ?? 1,
          needs: [],
          fingerprint: fp.fingerprint,
          targets: fp.targets,
          pluginVersion: loaded.version,
        },
      ],
      new Map(),
    );
    // A previous attempt that "crashed" left the task running: reset it, as a restart would.
    await store.resetStale((o) => o.id.startsWith(TEST_OWNER_PREFIX));
    const rec0 = store.getTask(id)!;
    if (rec0.state !== 'pending') {
      await store.resume([id]);
    }
    const owner: OwnerRef = { id: `${TEST_OWNER_PREFIX}${process.pid}:${Date.now()}:${Math.random()}`, pid: process.pid, host: 'test' };
    // Registered so that claim() accepts it; a lease of 0 leaves it stale for any real runner.
    await store.registerOwner({ ...owner, startedAt: Date.now(), heartbeatAt: Date.now(), leaseMs: 0, argv: [] });
    const [rec] = await store.claim([id], owner);
    if (!rec) throw new Error(`could not claim ${id} (state ${store.getTask(id)?.state})`);
    const out: PluginRun<R> = { outcome: 'completed', dir, attempt: rec.attempts, checkpoints: [], progress: [], logs: [], events: [] };
    let crashed = false;
    const controller = new AbortController();
    const { payload } = buildTaskPayload({
      record: rec,
      plugin: loaded,
      options: opts,
      lastCheckpoint: store.listCheckpoints(id)[0],
      run: { name: 'test', runDir: dir, dataDir: run.dataDir ?? join(dir, 'data') },
      upstream: run.upstream ?? {},
      gpus: [],
      checkpoints: { keep: run.keep ?? 3, inlineMaxBytes: run.inlineMaxBytes ?? 65536 },
      ownerId: owner.id,
      progressIntervalMs: 0,
    });
    const handlers: ((m: never) => void)[] = [];
    const channel = {
      post: (m: WorkerMessage) => {
        if (m.type === 'log') {
          out.logs.push({ level: m.level, message: m.message });
          if (run.verbose) console.log(`[${m.level}] ${m.message}`);
        } else if (m.type === 'event') out.events.push({ name: m.name, data: m.data });
        else if (m.type === 'checkpoint') out.checkpoints.push(m.info);
      },
      onMessage: (h: (m: never) => void) => handlers.push(h),
      close: () => {},
    };
    const { ctx } = createTaskContext(payload, store, channel, controller);
    const watch = (update: ProgressUpdate) => {
      out.progress.push(update);
      if (update.step === undefined) return;
      if (run.crashAtStep !== undefined && update.step >= run.crashAtStep && !crashed) {
        crashed = true;
        throw new SimulatedCrash(update.step);
      }
      if (run.cancelAtStep !== undefined && update.step >= run.cancelAtStep && !controller.signal.aborted) {
        controller.abort(Object.assign(new Error(`cancelled at step ${update.step}`), { code: 'RUNNER_TASK_ABORTED' }));
      }
    };
    const testCtx: TaskContext = Object.create(ctx, {
      progress: {
        value: (u: ProgressUpdate) => {
          if (crashed) throw new SimulatedCrash(u.step ?? -1);
          watch(u);
          ctx.progress(u);
        },
      },
      checkpoint: {
        value: {
          load: ctx.checkpoint.load,
          save: (state: unknown, o: Parameters<typeof ctx.checkpoint.save>[1]) => {
            // After a kill nothing more reaches the disk.
            if (crashed) return Promise.reject(new SimulatedCrash(o.step));
            return ctx.checkpoint.save(state, o);
          },
        },
      },
      runChild: {
        value: (spec: ChildTaskSpec, options?: ChildRunOptions) =>
          run.runChild ? run.runChild(spec, options) : Promise.reject(new Error('runChild: pass runChild to runPlugin to serve child tasks')),
      },
      log: { value: ctx.log as Logger },
    });
    const loadedCk = await ctx.checkpoint.load().catch(() => undefined);
    if (loadedCk) out.resumedFrom = loadedCk.step;
    try {
      out.result = await plugin.run(testCtx as TaskContext<O>);
      if (crashed) throw new SimulatedCrash(-1);
      await store.finish(id, owner.id, { state: 'completed', result: out.result, runMs: 0 });
    } catch (err) {
      out.error = serializeError(err);
      if (crashed) {
        out.outcome = 'crashed';
        // Leave the task running under a dead owner, as kill -9 would.
      } else if (controller.signal.aborted) {
        out.outcome = 'cancelled';
        await store.finish(id, owner.id, { state: 'pending', runMs: 0, note: 'cancelled by the test kit' });
      } else {
        out.outcome = 'failed';
        if (err instanceof TypeError && Object.keys(rec.cell).length === 0) {
          // The usual cause: the plugin reads ctx.task.cell.<key>, and a test task has no cell.
          out.error.hint = `${out.error.hint ? `${out.error.hint} ` : ''}The test task ${id} has no matrix cell; if the plugin reads ctx.task.cell, pass one: runPlugin(plugin, options, { task: { cell: { symbol: 'AAPL' } } }).`;
        }
        await store.finish(id, owner.id, { state: 'failed', runMs: 0, error: out.error });
      }
    }
    return out;
  } finally {
    await store.close();
  }
}

export interface TestResumeOptions<R> {
  /** Steps to interrupt at. Default: just after each checkpoint of an uninterrupted run, and midway between. */
  interruptAt?: number[];
  /** 'crash' simulates kill -9, 'cancel' fires the signal; 'both' tries each. @default 'both' */
  mode?: 'crash' | 'cancel' | 'both';
  /** Maps a result to what must be equal (drop attempt-specific fields). */
  normalize?: (result: R) => unknown;
  runOptions?: Omit<RunPluginOptions, 'dir' | 'crashAtStep' | 'cancelAtStep'>;
  /** Keep the temporary directories. */
  keepDirs?: boolean;
}

export interface ResumeReport<R> {
  uninterrupted: PluginRun<R>;
  points: { step: number; mode: 'crash' | 'cancel'; resumedFrom?: number; attempts: number; result: R }[];
}

/**
 * Asserts that interrupting a plugin (at each given step, by a simulated kill -9 or a cancel) and
 * resuming it gives the same result as an uninterrupted run. Throws with a readable diff when not.
 */
export async function testResume<O extends object, R>(
  plugin: PluginDefinition<O, R>,
  options: Partial<O>,
  opts: TestResumeOptions<R> = {},
): Promise<ResumeReport<R>> {
  const normalize = opts.normalize ?? ((r: R) => r);
  const dirs: string[] = [];
  try {
    const base = await runPlugin(plugin, options, { ...opts.runOptions });
    dirs.push(base.dir);
    if (base.outcome !== 'completed') throw new Error(`the uninterrupted run did not complete: ${base.error?.message}`);
    const steps = opts.interruptAt ?? defaultPoints(base);
    if (steps.length === 0) throw new Error('no interruption points: the plugin reported no progress steps; pass interruptAt');
    const modes: ('crash' | 'cancel')[] = opts.mode === 'crash' ? ['crash'] : opts.mode === 'cancel' ? ['cancel'] : ['crash', 'cancel'];
    const report: ResumeReport<R> = { uninterrupted: base, points: [] };
    const expected = normalize(base.result as R);
    for (const mode of modes) {
      for (const step of steps) {
        const first = await runPlugin(plugin, options, { ...opts.runOptions, [mode === 'crash' ? 'crashAtStep' : 'cancelAtStep']: step });
        dirs.push(first.dir);
        let last = first;
        let attempts = 1;
        while (last.outcome !== 'completed') {
          if (last.outcome === 'failed') throw new Error(`${mode} at step ${step}: attempt ${attempts} failed: ${last.error?.message}`);
          if (attempts > 3) throw new Error(`${mode} at step ${step}: did not complete after ${attempts} attempts`);
          last = await runPlugin(plugin, options, { ...opts.runOptions, dir: first.dir });
          attempts++;
        }
        const got = normalize(last.result as R);
        if (!isDeepStrictEqual(got, expected)) {
          throw new Error(
            `${mode} at step ${step} then resume (from ${last.resumedFrom ?? 'the start'}) differs from the uninterrupted run:\n` +
              `  expected ${preview(expected)}\n  got      ${preview(got)}`,
          );
        }
        report.points.push({ step, mode, resumedFrom: last.resumedFrom, attempts, result: last.result as R });
      }
    }
    return report;
  } finally {
    if (!opts.keepDirs) for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

function defaultPoints(base: PluginRun<unknown>): number[] {
  const ck = base.checkpoints.map((c) => c.step);
  const steps = base.progress.map((p) => p.step).filter((s): s is number => s !== undefined);
  const max = Math.max(0, ...steps);
  const points = new Set<number>();
  for (const s of ck) if (s + 1 <= max) points.add(s + 1);
  const bounds = [0, ...ck, max];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const mid = Math.floor((bounds[i]! + bounds[i + 1]!) / 2);
    if (mid >= 1 && mid <= max) points.add(mid);
  }
  return [...points].sort((a, b) => a - b).slice(0, 12);
}

function preview(v: unknown): string {
  const s = JSON.stringify(v, (_k, x) => (ArrayBuffer.isView(x) ? `<${x.constructor.name} ${(x as unknown as ArrayLike<number>).length}>` : x));
  return s && s.length > 300 ? s.slice(0, 297) + '...' : String(s);
}
