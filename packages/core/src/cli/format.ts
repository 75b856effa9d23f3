import { isRunnerError, type ErrorIssue } from '../errors.js';

const colorOn = (stream: NodeJS.WriteStream) => !!stream.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';

function paint(code: number, close: number) {
  return (s: string, stream: NodeJS.WriteStream = process.stdout) => (colorOn(stream) ? `\x1b[${code}m${s}\x1b[${close}m` : s);
}

export const c = {
  bold: paint(1, 22),
  dim: paint(2, 22),
  red: paint(31, 39),
  green: paint(32, 39),
  yellow: paint(33, 39),
  blue: paint(34, 39),
  cyan: paint(36, 39),
  gray: paint(90, 39),
};

export function stateColor(state: string, s: string = state, stream?: NodeJS.WriteStream): string {
  switch (state) {
    case 'completed':
      return c.green(s, stream);
    case 'running':
      return c.cyan(s, stream);
    case 'failed':
      return c.red(s, stream);
    case 'cancelled':
      return c.yellow(s, stream);
    default:
      return s;
  }
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

export function formatAge(time: number | undefined, now = Date.now()): string {
  return time === undefined ? '-' : `${formatDuration(now - time)} ago`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Parses `30d`, `12h`, `15m`, `45s`, `500ms` (or plain milliseconds). */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[(m[2] ?? 'ms') as 'ms'];
  return n * unit;
}

/** A plain left-aligned table; the last column may be long. */
export function table(rows: string[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const r of all) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell).length)));
  const fmt = (r: string[]) => r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visible(cell).length))).join('  ').trimEnd();
  const lines = all.map(fmt);
  if (header) lines[0] = c.bold(lines[0]!);
  return lines.join('\n');
}

function visible(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[\d+m/g, '');
}

export function formatIssue(i: ErrorIssue): string {
  const loc = i.file ? `${i.file}${i.line ? `:${i.line}:${i.col ?? 1}` : ''}` : '';
  const head = [loc, i.path ? `${i.path}: ${i.message}` : i.message].filter(Boolean).join('  ');
  return i.hint ? `${head}\n      ${c.dim(i.hint, process.stderr)}` : head;
}

/** Prints an error the way a user can act on: what happened, where, what to do. */
export function printError(err: unknown, stream: NodeJS.WriteStream = process.stderr): void {
  if (isRunnerError(err)) {
    stream.write(`${c.red('error', stream)} ${c.dim(err.code, stream)}: ${err.message}\n`);
    for (const i of err.issues ?? []) stream.write(`  ${formatIssue(i)}\n`);
    if (err.hint) stream.write(`${c.bold('hint', stream)}: ${err.hint}\n`);
    const cause = (err as { cause?: unknown }).cause;
    if (cause && process.env.RUNNER_DEBUG) stream.write(`${c.dim(String((cause as Error).stack ?? cause), stream)}\n`);
  } else {
    const e = err as Error;
    stream.write(`${c.red('error', stream)}: ${e?.message ?? String(err)}\n`);
    if (process.env.RUNNER_DEBUG && e?.stack) stream.write(`${c.dim(e.stack, stream)}\n`);
    else stream.write(c.dim('(set RUNNER_DEBUG=1 for the stack trace)\n', stream));
  }
}

/**
 * A failed command's error as data, what `--json` prints on stdout (the human lines still go to
 * stderr): `{ "error": { code, message, hint, issues, exitCode } }`. `code` is null for an error
 * that is not one of runner's own (a bug: RUNNER_DEBUG=1 shows its stack).
 */
export function errorJson(err: unknown, exitCode: number): { error: { code: string | null; message: string; hint: string | null; issues: ErrorIssue[]; taskId: string | null; exitCode: number } } {
  if (isRunnerError(err)) {
    return { error: { code: err.code, message: err.message, hint: err.hint ?? null, issues: err.issues, taskId: err.taskId ?? null, exitCode } };
  }
  const e = err as Error | undefined;
  return { error: { code: null, message: e?.message ?? String(err), hint: null, issues: [], taskId: null, exitCode } };
}

export function pct(step: number | undefined, total: number | undefined): string {
  if (step === undefined || !total) return '-';
  return `${Math.floor((100 * step) / total)}%`;
}

export function bar(fraction: number, width = 20): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

export function sparkline(values: number[]): string {
  const ticks = '▁▂▃▄▅▆▇█';
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '';
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return values.map((v) => (Number.isFinite(v) ? ticks[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * 7)] : ' ')).join('');
}

/**
 * The one-line summary a plugin puts in its result as `headline` (e.g. a backtest's return,
 * Sharpe and drawdown), shown by `runner status` and `runner tasks`; undefined when there is none.
 */
export function resultHeadline(result: unknown): string | undefined {
  const h = (result as { headline?: unknown } | null | undefined)?.headline;
  return typeof h === 'string' && h.length > 0 ? h : undefined;
}
