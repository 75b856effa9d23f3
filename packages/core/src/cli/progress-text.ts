import type { TaskProgress } from '../store/types.js';

type Progress = Pick<TaskProgress, 'step' | 'total' | 'unit' | 'inner'>;

/**
 * A task's position as people count it: `epoch 21/40, batch 12/38` (not `20.289/40`),
 * `trial 7/50`, `120/200`. Empty when the task reported no step.
 */
export function progressText(p: Progress | undefined): string {
  if (!p || p.step === undefined) return '';
  const { step, total, unit, inner } = p;
  const unitPrefix = unit ? `${unit} ` : '';
  if (inner && inner.total > 0 && inner.step < inner.total) {
    // Inside step k+1: `step` counts finished units (plus a fraction of the current one).
    const current = Math.floor(step) + 1;
    return `${unitPrefix}${total ? Math.min(current, total) : current}${total ? `/${total}` : ''}, ${inner.unit} ${inner.step}/${inner.total}`;
  }
  const shown = Number.isInteger(step) ? String(step) : String(Math.round(step * 10) / 10);
  return `${unitPrefix}${shown}${total ? `/${total}` : ''}`;
}
