import type { EventEmitter } from 'eventemitter3';
import type { RunnerEvents } from '../events.js';
import type { RunSummary } from '../run/runner.js';
import type { StateCounts, TaskState } from '../store/types.js';
import { StageEta } from './eta.js';
import { c, formatDuration, stateColor } from './format.js';
import { invocation } from './invocation.js';
import { LiveView } from './live-view.js';
import { progressText } from './progress-text.js';
import { taskErrorLines } from './task-error.js';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

interface Running {
  id: string;
  stage: string;
  step?: number;
  total?: number;
  unit?: string;
  inner?: { step: number; total: number; unit: string };
  message?: string;
  metrics?: Record<string, number>;
  /** Has a bar in the live region. */
  shown: boolean;
}

const BAR = 24;

function bar(fraction: number, size = BAR): string {
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * size);
  return '█'.repeat(full) + '░'.repeat(size - full);
}

/**
 * What a person sees while `runner start` works: a live region of progress bars with counts and
 * ETA on a terminal, plain timestamped lines otherwise. Counts are of the run's planned tasks
 * (child tasks such as HPO trials show as bars but are not counted), and follow changes other
 * processes make (`runner cancel` of a pending task shows as ⏸).
 */
export class Display {
  private readonly tty: boolean;
  private readonly out: NodeJS.WriteStream;
  private readonly running = new Map<string, Running>();
  private counts: StateCounts = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  private total = 0;
  private threads = 1;
  private toRun: Record<string, number> = {};
  private readonly eta = new StageEta();
  private live?: LiveView;
  private summaryTimer?: NodeJS.Timeout;
  private perTaskLines = true;
  private resumed = 0;
  private stopping = false;
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
      this.threads = e.threads;
      this.counts = { ...e.counts };
      this.toRun = { ...(e.toRun ?? {}) };
      this.perTaskLines = verbosity === 'verbose' || (verbosity === 'normal' && e.total <= 200);
      const done = e.counts.completed;
      this.line(
        `${c.bold(e.name)}: ${e.total} tasks (${done} completed, ${e.counts.pending + e.counts.running} to run), ${e.threads} thread${e.threads === 1 ? '' : 's'}, store ${e.runDir}`,
      );
      for (const n of e.notes) this.line(`${c.yellow('note')} ${n}`);
      if (this.tty && verbosity !== 'quiet') {
        this.live = new LiveView(this.out);
        this.summaryTimer = setInterval(() => this.redraw(), 1000);
        this.redraw();
      } else if (verbosity !== 'quiet') this.summaryTimer = setInterval(() => this.line(this.summaryLine()), 10_000);
    });
    events.on('task:start', (e) => {
      if (!e.parent) this.move('pending', 'running');
      if (e.resumeFrom && !e.parent) this.resumed++;
      const r: Running = { id: e.id, stage: e.stage, step: e.resumeFrom?.step, total: e.resumeFrom?.total, shown: false };
      this.running.set(e.id, r);
      if (!e.parent) this.eta.start(e.id, e.stage, fractionOf(r));
      const how = e.resumeFrom ? ` resuming from ${e.resumeFrom.type} checkpoint at step ${e.resumeFrom.step}${e.resumeFrom.total ? `/${e.resumeFrom.total}` : ''}` : '';
      if (this.live) this.redraw();
      else if (this.perTaskLines && !e.parent) this.line(`${c.cyan('start')} ${e.id}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}${how}`);
    });
    events.on('task:progress', (e) => {
      const r = this.running.get(e.id);
      if (!r) return;
      if (e.step !== undefined) r.step = e.step;
      if (e.total !== undefined) r.total = e.total;
      if (e.unit !== undefined) r.unit = e.unit;
      if ('inner' in e) r.inner = e.inner;
      if (e.message !== undefined) r.message = e.message;
      if (e.metrics) r.metrics = e.metrics;
      this.eta.progress(e.id, fractionOf(r));
      if (this.live) this.redraw();
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
    events.on('run:stopping', () => {
      this.stopping = true;
      this.redraw();
    });
    events.on('run:remaining', (e) => {
      this.toRun = { ...e.toRun };
      this.redraw();
    });
    events.on('task:state', (e) => {
      if (this.running.has(e.id)) return;
      this.move(e.from, e.to);
      if (e.to === 'cancelled' && this.perTaskLines) this.line(`${stateColor('cancelled')} ${e.id}: cancelled by another process`);
      this.redraw();
    });
    events.on('task:end', (e) => {
      this.running.delete(e.id);
      if (e.parent) {
        this.redraw();
        return;
      }
      this.move('running', e.state);
      this.eta.end(e.id, e.state === 'completed');
      if (e.state !== 'pending' && (this.toRun[e.stage] ?? 0) > 0) this.toRun[e.stage]!--;
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
      this.redraw();
    });
  }

  private move(from: TaskState, to: TaskState): void {
    if (this.counts[from] > 0) this.counts[from]--;
    this.counts[to]++;
  }

  /** `ETA 2m10s`, `ETA unknown: no train work measured yet`, or nothing when the run will not continue. */
  private etaText(): string {
    if (this.stopping) return 'stopping';
    const k = this.counts;
    if (k.completed === this.total) return 'done';
    const left = Object.values(this.toRun).reduce((a, b) => a + b, 0);
    if (left === 0) return k.pending > 0 ? 'nothing left that can run' : 'finishing';
    const e = this.eta.estimate(this.toRun, this.threads);
    return e.ms !== undefined ? `ETA ${formatDuration(e.ms)}` : `ETA unknown (${e.unknown})`;
  }

  private countsText(): string {
    const k = this.counts;
    return (
      `${c.green(`✓${k.completed}`)} ${c.cyan(`▶${k.running}`)}` +
      `${k.pending ? ` …${k.pending}` : ''}${k.failed ? ' ' + c.red(`✗${k.failed}`) : ''}${k.cancelled ? ' ' + c.yellow(`⏸${k.cancelled}`) : ''}`
    );
  }

  private summaryLine(): string {
    const k = this.counts;
    const eta = this.etaText();
    return `${c.dim('progress')} ${k.completed}/${this.total} completed, ${k.running} running, ${k.pending} pending, ${k.failed} failed, ${k.cancelled} cancelled; ${eta}`;
  }

  private taskText(r: Running): string {
    const metrics = r.metrics ? Object.entries(r.metrics).slice(0, 3).map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`).join(' ') : '';
    return [r.id, progressText(r), metrics, r.message ?? ''].filter(Boolean).join('  ');
  }

  private redraw(): void {
    if (!this.live) return;
    const k = this.counts;
    const lines = [`${bar(this.total ? k.completed / this.total : 1)} ${k.completed}/${this.total} tasks  ${this.etaText()}  ${this.countsText()}`];
    let hidden = 0;
    for (const r of this.running.values()) {
      if (lines.length > this.maxBars) {
        hidden++;
        continue;
      }
      lines.push(`${c.dim(bar(fractionOf(r)))} ${this.taskText(r)}`);
    }
    if (hidden > 0) lines.push(c.dim(`(+${hidden} more running)`));
    this.live.set(lines);
  }

  line(s: string): void {
    if (this.live) this.live.log(s);
    else this.out.write(this.tty ? s + '\n' : `${new Date().toISOString().slice(11, 19)} ${stripAnsi(s)}\n`);
  }

  /** Stops the live view and prints the run's summary. */
  finish(summary: RunSummary, specPath: string): void {
    if (this.summaryTimer) clearInterval(this.summaryTimer);
    if (this.live) {
      this.running.clear();
      this.stopping = false;
      this.counts = { ...summary.counts };
      this.redraw();
      this.live.stop();
      this.live = undefined;
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
    const cmd = invocation();
    if (summary.error) {
      this.line(`${c.red(summary.name)}: stopped after ${took} because ${summary.error.message}`);
      if (summary.error.hint) this.line(`${c.bold('hint')}: ${summary.error.hint}`);
    } else if (summary.interrupted) {
      this.line(`${c.yellow(summary.name)}: interrupted after ${took}: ${parts.join(', ')}.`);
      this.line(`Run the same command to continue: ${cmd} start ${specPath}`);
    } else {
      this.line(`${(summary.exitCode === 0 ? c.green : c.red)(summary.name)}: ${parts.join(', ')} in ${took}.`);
    }
    for (const id of summary.failed.slice(0, 10)) this.line(`  ${c.red('✗')} ${id}   retry: ${cmd} resume ${specPath} '${id}'`);
    if (summary.failed.length > 10) this.line(`  … and ${summary.failed.length - 10} more: ${cmd} tasks ${specPath} --state failed`);
  }
}

function fractionOf(r: { step?: number; total?: number }): number {
  return r.total && r.step !== undefined ? Math.min(1, Math.max(0, r.step / r.total)) : 0;
}

function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[\d+m/g, '');
}
