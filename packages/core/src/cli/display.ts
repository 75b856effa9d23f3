import cliProgress from 'cli-progress';
import type { EventEmitter } from 'eventemitter3';
import type { RunnerEvents } from '../events.js';
import type { RunSummary } from '../run/runner.js';
import type { StateCounts, TaskState } from '../store/types.js';
import { c, formatDuration, stateColor } from './format.js';
import { taskErrorLines } from './task-error.js';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

interface Running {
  id: string;
  step?: number;
  total?: number;
  message?: string;
  metrics?: Record<string, number>;
  bar?: cliProgress.SingleBar;
}

/** Estimates the time left from the progress made since the runner started. */
export class Eta {
  private readonly t0 = Date.now();
  private u0: number | undefined;

  estimate(units: number, total: number): number | undefined {
    if (this.u0 === undefined) {
      this.u0 = units;
      return undefined;
    }
    const done = units - this.u0;
    const elapsed = Date.now() - this.t0;
    if (done <= 0 || elapsed < 1000) return undefined;
    return ((total - units) * elapsed) / done;
  }
}

/**
 * What a person sees while `runner start` works: progress bars with counts and ETA on a
 * terminal, plain timestamped lines otherwise.
 */
export class Display {
  private readonly tty: boolean;
  private readonly out: NodeJS.WriteStream;
  private readonly running = new Map<string, Running>();
  private counts: StateCounts = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  private total = 0;
  private readonly eta = new Eta();
  private multibar?: cliProgress.MultiBar;
  private overall?: cliProgress.SingleBar;
  private summaryTimer?: NodeJS.Timeout;
  private perTaskLines = true;
  private resumed = 0;
  private readonly maxBars: number;

  constructor(
    events: EventEmitter<RunnerEvents>,
    private readonly verbosity: Verbosity,
    options: { tty?: boolean; stream?: NodeJS.WriteStream } = {},
  ) {
    this.out = options.stream ?? process.stdout;
    this.tty = options.tty ?? (!!this.out.isTTY && process.env.TERM !== 'dumb');
    this.maxBars = Math.max(4, Math.min(20, (this.out.rows ?? 24) - 6));
    events.on('run:start', (e) => {
      this.total = e.total;
      this.counts = { ...e.counts, running: 0 };
      this.perTaskLines = verbosity === 'verbose' || (verbosity === 'normal' && e.total <= 200);
      const done = e.counts.completed;
      this.line(
        `${c.bold(e.name)}: ${e.total} tasks (${done} completed, ${e.counts.pending + e.counts.running} to run), ${e.threads} thread${e.threads === 1 ? '' : 's'}, store ${e.runDir}`,
      );
      for (const n of e.notes) this.line(`${c.yellow('note')} ${n}`);
      if (this.tty && verbosity !== 'quiet') this.startBars();
      else if (verbosity !== 'quiet') this.summaryTimer = setInterval(() => this.line(this.summaryLine()), 10_000);
    });
    events.on('task:start', (e) => {
      this.move(e.id, 'pending', 'running');
      if (e.resumeFrom) this.resumed++;
      const r: Running = { id: e.id, step: e.resumeFrom?.step, total: e.resumeFrom?.total };
      this.running.set(e.id, r);
      const how = e.resumeFrom ? ` resuming from ${e.resumeFrom.type} checkpoint at step ${e.resumeFrom.step}${e.resumeFrom.total ? `/${e.resumeFrom.total}` : ''}` : '';
      if (this.multibar) {
        this.addBar(r);
        this.refreshOverall();
      } else if (this.perTaskLines && !e.parent) this.line(`${c.cyan('start')} ${e.id}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}${how}`);
    });
    events.on('task:progress', (e) => {
      const r = this.running.get(e.id);
      if (!r) return;
      if (e.step !== undefined) r.step = e.step;
      if (e.total !== undefined) r.total = e.total;
      if (e.message !== undefined) r.message = e.message;
      if (e.metrics) r.metrics = e.metrics;
      if (r.bar) r.bar.update(r.step ?? 0, { ...this.taskPayload(r) });
      if (r.bar && r.total) r.bar.setTotal(r.total);
    });
    events.on('task:checkpoint', (e) => {
      if (verbosity === 'verbose') this.line(c.dim(`checkpoint ${e.id} #${e.seq} ${e.type} at step ${e.step}${e.total ? `/${e.total}` : ''} (${e.size} B)`));
    });
    events.on('task:log', (e) => {
      if (e.level === 'debug' && verbosity !== 'verbose') return;
      if (verbosity === 'quiet' && (e.level === 'info' || e.level === 'debug')) return;
      if (!this.perTaskLines && e.level === 'info') return;
      const tag = e.level === 'error' ? c.red(e.level) : e.level === 'warn' ? c.yellow(e.level) : c.dim(e.level);
      this.line(`${tag} ${c.dim(e.id)} ${e.message}`);
    });
    events.on('run:log', (e) => {
      const tag = e.level === 'error' ? c.red('error') : e.level === 'warn' ? c.yellow('warn') : c.dim('info');
      this.line(`${tag} ${e.message}`);
    });
    events.on('task:end', (e) => {
      if (e.parent) {
        this.running.get(e.id)?.bar && this.multibar?.remove(this.running.get(e.id)!.bar!);
        this.running.delete(e.id);
        this.refreshOverall();
        return;
      }
      this.move(e.id, 'running', e.state);
      const r = this.running.get(e.id);
      if (r?.bar) this.multibar?.remove(r.bar);
      this.running.delete(e.id);
      const took = formatDuration(e.durationMs);
      if (e.state === 'completed') {
        if (this.perTaskLines) this.line(`${c.green('done')}  ${e.id} in ${took}`);
      } else if (e.state === 'failed') {
        const [head, ...more] = e.error ? taskErrorLines(e.error) : [e.note ?? ''];
        this.line(`${c.red('failed')} ${e.id} after ${took}: ${head}`);
        for (const l of more) this.line(`  ${l}`);
      } else if (e.state === 'pending' && e.error) {
        this.line(`${c.yellow('retry')} ${e.id}: ${e.note ?? ''}`);
      } else if (this.perTaskLines || e.state === 'cancelled') {
        this.line(`${stateColor(e.state, e.state === 'pending' ? 'paused' : e.state)} ${e.id}: ${e.note ?? ''}`);
      }
      this.refreshOverall();
    });
  }

  private move(_id: string, from: TaskState, to: TaskState): void {
    if (this.counts[from] > 0) this.counts[from]--;
    this.counts[to]++;
  }

  private units(): number {
    let u = this.counts.completed;
    for (const r of this.running.values()) if (r.total && r.step !== undefined) u += Math.min(1, r.step / r.total);
    return u;
  }

  private summaryLine(): string {
    const eta = this.eta.estimate(this.units(), this.total);
    const k = this.counts;
    return `${c.dim('progress')} ${k.completed}/${this.total} completed, ${k.running} running, ${k.pending} pending, ${k.failed} failed, ${k.cancelled} cancelled${eta !== undefined ? `, ETA ${formatDuration(eta)}` : ''}`;
  }

  private startBars(): void {
    this.multibar = new cliProgress.MultiBar(
      {
        stream: this.out,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        fps: 8,
        barsize: 24,
        autopadding: true,
        format: (options, params, payload: Record<string, string>) => {
          const size = options.barsize ?? 24;
          const full = Math.round(params.progress * size);
          const b = '█'.repeat(full) + '░'.repeat(Math.max(0, size - full));
          if (payload.kind === 'overall') return `${b} ${payload.text}`;
          return `${c.dim(b)} ${payload.text}`;
        },
      },
      cliProgress.Presets.shades_classic,
    );
    this.overall = this.multibar.create(Math.max(1, this.total), this.counts.completed, { kind: 'overall', text: '' });
    this.refreshOverall();
    // The ETA moves with progress inside tasks, not only when tasks end.
    this.summaryTimer = setInterval(() => this.refreshOverall(), 1000);
  }

  private addBar(r: Running): void {
    if (!this.multibar) return;
    const bars = [...this.running.values()].filter((x) => x.bar).length;
    if (bars >= this.maxBars) return;
    r.bar = this.multibar.create(r.total ?? 1, r.step ?? 0, this.taskPayload(r));
  }

  private taskPayload(r: Running): { kind: string; text: string } {
    const pos = r.step !== undefined ? `${r.step}${r.total ? `/${r.total}` : ''}` : '';
    const metrics = r.metrics ? Object.entries(r.metrics).slice(0, 3).map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`).join(' ') : '';
    return { kind: 'task', text: [r.id, pos, metrics, r.message ?? ''].filter(Boolean).join('  ') };
  }

  private refreshOverall(): void {
    if (!this.overall) return;
    const k = this.counts;
    const eta = this.eta.estimate(this.units(), this.total);
    const hidden = [...this.running.values()].filter((x) => !x.bar).length;
    const left = k.completed === this.total ? 'done' : `ETA ${eta !== undefined ? formatDuration(eta) : '-'}`;
    const text =
      `${k.completed}/${this.total} tasks  ${left}  ` +
      `${c.green(`✓${k.completed}`)} ${c.cyan(`▶${k.running}`)} ${k.pending ? `…${k.pending} ` : ''}${k.failed ? c.red(`✗${k.failed} `) : ''}${k.cancelled ? c.yellow(`⏸${k.cancelled}`) : ''}` +
      (hidden > 0 ? c.dim(`  (+${hidden} more running)`) : '');
    this.overall.update(k.completed, { kind: 'overall', text });
  }

  line(s: string): void {
    if (this.multibar) this.multibar.log(s + '\n');
    else this.out.write(this.tty ? s + '\n' : `${new Date().toISOString().slice(11, 19)} ${stripAnsi(s)}\n`);
  }

  /** Stops the live view and prints the run's summary. */
  finish(summary: RunSummary, specPath: string): void {
    if (this.summaryTimer) clearInterval(this.summaryTimer);
    if (this.multibar) {
      this.refreshOverall();
      // Logged lines are drawn on the next redraw; force one so none is lost.
      this.multibar.update();
      this.multibar.stop();
      this.multibar = undefined;
    }
    const k = summary.counts;
    const total = Object.values(k).reduce((a, b) => a + b, 0);
    const took = formatDuration(summary.durationMs);
    const parts = [`${k.completed}/${total} completed`];
    if (k.failed) parts.push(c.red(`${k.failed} failed`));
    if (k.cancelled) parts.push(c.yellow(`${k.cancelled} cancelled`));
    if (summary.blocked) parts.push(`${summary.blocked} blocked by failed or cancelled work`);
    if (k.pending - summary.blocked > 0) parts.push(`${k.pending - summary.blocked} pending`);
    if (this.resumed) parts.push(`${this.resumed} resumed from checkpoints`);
    if (summary.error) {
      this.line(`${c.red(summary.name)}: stopped after ${took} because ${summary.error.message}`);
      if (summary.error.hint) this.line(`${c.bold('hint')}: ${summary.error.hint}`);
    } else if (summary.interrupted) {
      this.line(`${c.yellow(summary.name)}: interrupted after ${took}: ${parts.join(', ')}.`);
      this.line(`Run the same command to continue: runner start ${specPath}`);
    } else {
      this.line(`${(summary.exitCode === 0 ? c.green : c.red)(summary.name)}: ${parts.join(', ')} in ${took}.`);
    }
    for (const id of summary.failed.slice(0, 10)) this.line(`  ${c.red('✗')} ${id}   retry: runner resume ${specPath} '${id}'`);
    if (summary.failed.length > 10) this.line(`  … and ${summary.failed.length - 10} more: runner tasks ${specPath} --state failed`);
  }
}

function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[\d+m/g, '');
}
