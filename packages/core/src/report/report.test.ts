import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { RunStore } from '../store/lmdb-store.js';
import type { TaskRecord } from '../store/types.js';
import { buildReport } from './build.js';
import { historyCharts } from './curves.js';
import { headlineMetric } from './headline.js';
import { renderReport } from './render.js';

const store = RunStore.open(mkdtempSync(join(tmpdir(), 'runner-report-')));
afterAll(() => store.close());

function task(id: string, stage: string, cell: Record<string, string | number>, extra: Partial<TaskRecord> = {}): TaskRecord {
  return { id, stage, plugin: 'p', cell, cycle: 1, needs: [], state: 'completed', attempts: 1, failures: 0, notes: [], fingerprint: 'f', targets: 't', pluginVersion: '1.0.0', checkpointSeq: 0, createdAt: 0, updatedAt: 0, runMs: 1500, ...extra };
}

describe('headline metric', () => {
  test('explicit headline, then a best value, then well-known metrics, then the first number', () => {
    expect(headlineMetric({ headline: { name: 'sharpe', value: 1.4 }, metrics: { val_loss: 0.1 } })).toEqual({ name: 'sharpe', value: 1.4 });
    expect(headlineMetric({ bestValue: 0.06, metric: 'val_loss' })).toEqual({ name: 'best val_loss', value: 0.06 });
    expect(headlineMetric({ metrics: { loss: 0.3, val_loss: 0.2 } })).toEqual({ name: 'val_loss', value: 0.2 });
    expect(headlineMetric({ sharpe: 2.1, trades: 40 })).toEqual({ name: 'sharpe', value: 2.1 });
    expect(headlineMetric({ metrics: { mae: 0.7 } })).toEqual({ name: 'mae', value: 0.7 });
    expect(headlineMetric({ files: ['a'] })).toBeUndefined();
    expect(headlineMetric(undefined)).toBeUndefined();
  });
});

describe('training curves', () => {
  test('loss with val_loss in one chart, lr in another; x from the epoch column', () => {
    const charts = historyCharts([
      { id: 'a', label: 'symbol=A', history: { epoch: [1, 2, 3], loss: [3, 2, 1], val_loss: [4, 3, 2], lr: [0.1, 0.1, 0.05] } },
      { id: 'b', label: 'symbol=B', history: { epoch: [1, 2], loss: [5, 4], val_loss: [6, 5], lr: [0.1, 0.1] } },
    ]);
    expect(charts.map((c) => c.title)).toEqual(['loss', 'learning rate']);
    expect(charts[0]!.series.map((s) => s.label)).toEqual(['loss symbol=A', 'val_loss symbol=A', 'loss symbol=B', 'val_loss symbol=B']);
    expect(charts[0]!.data[0]).toEqual([1, 2, 3]);
    expect(charts[0]!.data[3]).toEqual([5, 4, null]);
    expect(charts[0]!.series[1]!.dash).toEqual([6, 4]);
  });
});

describe('buildReport and renderReport', () => {
  test('plugin sections render; a failing hook shows its error; values are escaped', async () => {
    const evil = '<script>alert(1)</script>';
    const model = await buildReport({
      name: 'r',
      runDir: '/nowhere',
      store,
      stages: [
        {
          id: 'bt',
          pluginName: 'bt',
          options: {},
          plugin: {
            name: 'bt',
            version: '1.0.0',
            run: () => undefined,
            report: ({ tasks }) => tasks.map((t) => ({ title: `Equity ${t.id}`, taskId: t.id, charts: [{ title: 'Equity', series: [{ label: 'strategy' }], data: [[1, 2, 3], [100, 101, 99]] }], tables: [{ columns: ['k', 'v'], rows: [[evil, 1.23456]] }] })),
          },
        },
        { id: 'broken', pluginName: 'broken', options: {}, plugin: { name: 'broken', version: '1.0.0', run: () => undefined, report: () => { throw new Error('no data file'); } } },
      ],
      tasks: [
        task('bt/s=A/cycle=1', 'bt', { s: 'A' }, { result: { metrics: { sharpe: 1.5 }, history: { t: [1, 2], equity: [100, 101] } } }),
        task(`broken/s=${evil}/cycle=1`, 'broken', { s: evil }, { state: 'running', runMs: 0, progress: { step: 5, total: 10, updatedAt: 0 } }),
      ],
      children: [],
    });
    expect(model.stages[0]!.sections).toHaveLength(1);
    expect(model.stages[0]!.curves.map((c) => c.title)).toEqual(['equity']);
    expect(model.stages[1]!.error).toBe("the broken plugin's report failed: no data file");
    expect(model.cells.map((c) => c.cell)).toEqual(['s=<script>alert(1)</script>', 's=A']);
    const html = renderReport(model);
    expect(html).toContain('<h3>Equity bt/s=A/cycle=1</h3>');
    expect(html).toContain('sharpe 1.5');
    expect(html).toContain('running 50%');
    expect(html).toContain("the broken plugin&#39;s report failed: no data file");
    expect(html).not.toContain(evil);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html.match(/runnerChart\(/g)).toHaveLength(2);
  });
});
