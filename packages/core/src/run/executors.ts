import { availableParallelism } from 'node:os';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { ENVELOPE, type ExecOutcome, type MainMessage, type TaskPayload, type WorkerMessage } from '../worker/protocol.js';

/** A task in flight on some executor. */
export interface RunningHandle {
  /** Settles with the task's outcome; rejects only if the executor itself broke. */
  readonly done: Promise<ExecOutcome>;
  send(msg: MainMessage): void;
  /** Stops the task at once: terminates its thread or kills its process. */
  kill(): void;
}

export interface ExecutorHooks {
  onMessage(msg: WorkerMessage): void;
}

/**
 * The compiled worker entry (`worker/<name>.js`). Tests run the TypeScript sources, but worker threads and child
 * processes need JavaScript, so a `.ts` caller is pointed at the built file in dist/.
 */
export function distFile(name: string): string {
  const here = fileURLToPath(import.meta.url);
  const file = join(dirname(here), '..', 'worker', `${name}.js`);
  if (here.endsWith('.ts')) {
    const built = file.replace(/([/\\])src([/\\])/, '$1dist$2');
    if (!existsSync(built)) throw new Error(`${built} is missing: run \`pnpm build\` first`);
    return built;
  }
  return file;
}

/** Worker threads via piscina: one task per thread at a time. */
export class ThreadExecutor {
  readonly pool: Piscina;
  private readonly channel: BroadcastChannel;
  private readonly channelName = `runner-${process.pid}-${Math.random().toString(36).slice(2)}`;
  private readonly hooks = new Map<string, ExecutorHooks & { resolve(outcome: ExecOutcome): void }>();

  constructor(options: { threads: number; maxThreads: number; maxOldGenerationSizeMb?: number }) {
    this.capacity = options.threads;
    this.pool = new Piscina({
      filename: distFile('worker'),
      // More threads than cores start on demand: starting 100 eagerly takes a minute on 2 cores.
      minThreads: Math.min(options.threads, options.maxThreads, availableParallelism()),
      maxThreads: options.maxThreads,
      idleTimeout: 30_000,
      concurrentTasksPerWorker: 1,
      // Plugins may leave handles open (HTTP agents, timers); let the worker's event loop run.
      atomics: 'disabled',
      resourceLimits: options.maxOldGenerationSizeMb ? { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb } : undefined,
      recordTiming: false,
    });
    // A thread that dies outside a task (e.g. an error thrown from a timer) must not take the
    // runner down; a task it was running fails through its own promise.
    this.pool.on('error', (err: Error) => process.emitWarning(`a worker thread failed: ${err?.message ?? String(err)}`));
    this.channel = new BroadcastChannel(this.channelName);
    this.pool.on('message', (env: Record<string, unknown>) => {
      const id = env?.[ENVELOPE];
      if (typeof id !== 'string') return;
      const m = env.m as WorkerMessage;
      const h = this.hooks.get(id);
      if (!h) return;
      if (m.type === 'result') {
        this.hooks.delete(id);
        h.resolve(m.outcome);
      } else h.onMessage(m);
    });
  }

  /**
   * Tasks handed to piscina at once. Tasks beyond it wait here rather than in piscina's queue, so
   * piscina never starts more threads than there is work for: on a small machine extra threads
   * only compete with the runner for the cores. The runner raises it while parents lend their
   * slots to children (a waiting parent still occupies its thread).
   */
  capacity: number;
  private inPool = 0;
  private readonly waiting: { id: string; submit: () => void; reject: (err: unknown) => void }[] = [];

  start(payload: TaskPayload, hooks: ExecutorHooks): RunningHandle {
    const id = payload.info.id;
    const abort = new AbortController();
    let submitted = false;
    const done = new Promise<ExecOutcome>((resolve, reject) => {
      this.hooks.set(id, { onMessage: hooks.onMessage, resolve });
      const submit = () => {
        submitted = true;
        this.inPool++;
        // The outcome arrives as the worker's last message; piscina only tells of kills and crashes.
        this.pool
          .run({ ...payload, channel: this.channelName }, { signal: abort.signal })
          .catch((err: unknown) => {
            if (this.hooks.delete(id)) reject(err);
          })
          .finally(() => {
            this.inPool--;
            this.drain();
          });
      };
      if (this.inPool < this.capacity) submit();
      else this.waiting.push({ id, submit, reject });
    });
    return {
      done,
      send: (msg) => this.channel.postMessage({ t: id, m: msg }),
      kill: () => {
        if (submitted) return abort.abort();
        const i = this.waiting.findIndex((w) => w.id === id);
        if (i < 0) return;
        const [w] = this.waiting.splice(i, 1);
        this.hooks.delete(id);
        w!.reject(Object.assign(new Error('aborted before it started'), { name: 'AbortError' }));
      },
    };
  }

  /** Submits waiting tasks while there is capacity. */
  drain(): void {
    while (this.inPool < this.capacity && this.waiting.length > 0) this.waiting.shift()!.submit();
  }

  async close(): Promise<void> {
    this.channel.close();
    await this.pool.destroy();
  }
}

/** One child process per task, for plugins that must not share a process. */
export class ProcessExecutor {
  private readonly children = new Set<ChildProcess>();

  start(payload: TaskPayload, hooks: ExecutorHooks, env: Record<string, string>): RunningHandle {
    const child = fork(distFile('process-worker'), [], {
      serialization: 'advanced',
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.children.add(child);
    let outcome: ExecOutcome | undefined;
    const done = new Promise<ExecOutcome>((resolve) => {
      child.on('message', (m: WorkerMessage | { type: 'ready' } | { type: 'done' }) => {
        if (m.type === 'ready') child.send({ type: 'run', payload });
        else if (m.type === 'result') outcome = m.outcome;
        else if (m.type !== 'done') hooks.onMessage(m);
      });
      child.on('exit', (code, signal) => {
        this.children.delete(child);
        resolve(
          outcome ?? {
            ok: false,
            aborted: signal === 'SIGKILL',
            exited: signal ? `was killed by ${signal}` : `exited with code ${code}`,
            error: {
              name: 'Error',
              code: 'RUNNER_PLUGIN_FAILED',
              message: `the task's process exited ${signal ? `on ${signal}` : `with code ${code}`} before finishing`,
              hint: 'It may have run out of memory or crashed in native code; check the log above.',
              retryable: true,
            },
          },
        );
      });
      child.on('error', () => {
        // 'exit' follows and settles the promise.
      });
    });
    return {
      done,
      send: (msg) => {
        if (child.connected) child.send(msg);
      },
      kill: () => child.kill('SIGKILL'),
    };
  }

  async close(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
  }
}
