import { PassThrough } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import { describe, expect, test } from 'vitest';
import type { RunnerEvents } from '../events.js';
import { Display } from './display.js';

function setup() {
  const events = new EventEmitter<RunnerEvents>();
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d) => (out += d));
  const display = new Display(events, 'normal', { tty: false, stream: stream as unknown as NodeJS.WriteStream });
  events.emit('run:start', { name: 'r', runDir: '/r', owner: 'o', total: 3, counts: { pending: 3, running: 0, completed: 0, failed: 0, cancelled: 0 }, threads: 2, notes: [], toRun: { hpo: 2, train: 1 } });
  const summary = () => (display as unknown as { summaryLine(): string }).summaryLine();
  return { events, display, summary, out: () => out };
}

describe('Display counts', () => {
  test('child tasks (trials) are not counted as running tasks, and running goes down', () => {
    const { events, summary } = setup();
    events.emit('task:start', { id: 'hpo/a', stage: 'hpo', cell: {}, attempt: 1 });
    for (let i = 0; i < 50; i++) {
      events.emit('task:start', { id: `hpo/a/trial=${i}`, stage: 'train', cell: {}, attempt: 1, parent: 'hpo/a' });
      events.emit('task:end', { id: `hpo/a/trial=${i}`, stage: 'train', state: 'completed', durationMs: 5, parent: 'hpo/a' });
    }
    expect(summary()).toMatch(/^progress 0\/3 completed, 1 running, 2 pending, 0 failed, 0 cancelled/);
    events.emit('task:end', { id: 'hpo/a', stage: 'hpo', state: 'completed', durationMs: 10 });
    expect(summary()).toMatch(/^progress 1\/3 completed, 0 running, 2 pending/);
  });

  test('a pending task cancelled by another process counts as cancelled', () => {
    const { events, summary, out } = setup();
    events.emit('task:state', { id: 'train/a', stage: 'train', from: 'pending', to: 'cancelled' });
    events.emit('run:remaining', { toRun: { hpo: 2, train: 0 } });
    expect(summary()).toMatch(/2 pending, 0 failed, 1 cancelled/);
    expect(out()).toContain('cancelled train/a: cancelled by another process');
  });

  test('no ETA once the run is stopping', () => {
    const { events, summary } = setup();
    events.emit('run:stopping', { reason: 'SIGINT' });
    expect(summary()).toMatch(/; stopping$/);
  });

  test('no estimate before anything was measured, and it says so', () => {
    const { summary } = setup();
    expect(summary()).toMatch(/; ETA unknown \(no hpo\/train work measured yet\)$/);
  });
});
