import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { ChartSpec } from '../html/page.js';
import type { TaskRecord } from '../store/types.js';

/** Columns of a history: equal-length number arrays keyed by name (`epoch`, `loss`, `val_loss`, `lr`, …). */
export type History = Record<string, number[]>;

const X_KEYS = ['epoch', 'step', 'trial', 't', 'time'];

/**
 * The `history` of a task's result, by convention an object of number arrays or the path of a
 * JSON file holding one (absolute, or relative to the run directory). Undefined when absent or
 * unreadable: a report never fails on one task's files.
 */
export function readHistory(result: unknown, runDir: string): History | undefined {
  const h = (result as { history?: unknown } | undefined)?.history;
  let value: unknown = h;
  if (typeof h === 'string') {
    try {
      value = JSON.parse(readFileSync(isAbsolute(h) ? h : join(runDir, h), 'utf8'));
    } catch {
      return undefined;
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const out: History = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null)) out[k] = v as number[];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Charts of a stage's histories: one per metric family (`loss` with `val_loss`, `lr` alone), a
 * series per task (at most `maxTasks`), x = the history's epoch/step column or the row number.
 */
export function historyCharts(histories: Array<{ id: string; label: string; history: History }>, maxTasks = 12): ChartSpec[] {
  const shown = histories.slice(0, maxTasks);
  const families = new Map<string, string[]>();
  for (const { history } of shown) {
    for (const k of Object.keys(history)) {
      if (X_KEYS.includes(k)) continue;
      const base = k.replace(/^val_/, '');
      const keys = families.get(base) ?? [];
      if (!keys.includes(k)) keys.push(k);
      families.set(base, keys);
    }
  }
  const charts: ChartSpec[] = [];
  for (const [base, keys] of families) {
    keys.sort();
    const xsSet = new Set<number>();
    const xOf = (h: History) => {
      const xk = X_KEYS.find((k) => h[k]);
      const n = Math.max(...keys.map((k) => h[k]?.length ?? 0));
      return xk ? h[xk]!.slice(0, n) : Array.from({ length: n }, (_, i) => i + 1);
    };
    for (const { history } of shown) for (const x of xOf(history)) xsSet.add(x);
    const xs = [...xsSet].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const series: ChartSpec['series'] = [];
    const data: Array<Array<number | null>> = [xs];
    for (const { label, history } of shown) {
      const hx = xOf(history);
      for (const k of keys) {
        const col = history[k];
        if (!col) continue;
        const ys: Array<number | null> = new Array(xs.length).fill(null);
        hx.forEach((x, i) => (ys[index.get(x)!] = col[i] ?? null));
        series.push({ label: shown.length > 1 ? `${k} ${label}` : k, dash: k.startsWith('val_') ? [6, 4] : undefined });
        data.push(ys);
      }
    }
    const xLabel = X_KEYS.find((k) => shown.some(({ history }) => history[k])) ?? 'row';
    charts.push({ title: base === 'lr' ? 'learning rate' : base, series, data, xLabel });
  }
  return charts;
}

/** A short label for a task inside its stage: its cell and cycle. */
export function taskLabel(t: Pick<TaskRecord, 'cell' | 'cycle'>): string {
  const parts = Object.entries(t.cell).map(([k, v]) => `${k}=${v}`);
  return [...parts, `cycle=${t.cycle}`].join(' ');
}
