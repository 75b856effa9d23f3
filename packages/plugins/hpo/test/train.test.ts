/** The hpo stage with the real trainer (TF.js, cpu backend, a synthetic series) as its objective. */
import { describe, expect, test } from 'vitest';
import { tempProject } from '@runner/test-helpers/cli';
import { readRun, runSpec } from './helpers.js';

const SPEC = `name: hpo-test
matrix: { horizon: [1] }
pool: { threads: 2 }
stages:
  - id: hpo
    plugin: hpo
    options:
      trials: 6
      parallel: 2
      sampler: { type: tpe, seed: 3, startupTrials: 3 }
      pruner: { type: median, startupTrials: 2 }
      space:
        optimizer.adam.lr: { float: [1.0e-4, 3.0e-2], log: true }
        units: { int: [8, 64], step: 8 }
      objective: { stage: train, metric: val_loss }
  - id: train
    plugin: train
    needs: [hpo]
    options:
      data: { synthetic: { rows: 1500, seed: 7 }, features: [{ returns: [1, 5] }, { rsi: 14 }], label: { forwardReturn: 1 }, split: { val: 0.2 } }
      model: { layers: [{ dense: { units: '\${params.units}', activation: relu } }, { dense: { units: 1 } }] }
      optimizer: { adam: { lr: 0.001 } }
      loss: mse
      epochs: 4
      batchSize: 128
      backend: cpu
      seed: 1
`;

describe('hpo with the train plugin', () => {
  test('trials train real models with their parameters, pruned ones are cancelled, and the final training takes bestParams', async () => {
    const dir = tempProject({ 'job.yaml': SPEC });
    expect((await runSpec(dir)).exitCode).toBe(0);
    const run = readRun(dir);
    const hpo = run.tasks.get('hpo/horizon=1/cycle=1')!.result as { bestParams: Record<string, number>; bestValue: number; trials: { complete: number; pruned: number } };
    expect(hpo.trials.complete + hpo.trials.pruned).toBe(6);
    const study = run.study('hpo/horizon=1/cycle=1')!;
    for (const t of study.trials) {
      const child = run.tasks.get(`hpo/horizon=1/cycle=1/trial=${t.number}`)!;
      const result = child.result as { metrics: { val_loss: number }; effectiveOptions?: unknown } | undefined;
      if (t.state === 'COMPLETE') {
        expect(child.state).toBe('completed');
        expect(t.value).toBe(result!.metrics.val_loss);
        expect(t.steps).toEqual([1, 2, 3, 4]);
      } else {
        // Pruned after an epoch: the child is cancelled, or finished before the cancel reached it;
        // the trial keeps the decision, recorded first, and its last reported value.
        expect(t.state).toBe('PRUNED');
        expect(['cancelled', 'completed']).toContain(child.state);
        expect(t.value).toBe(t.values!.at(-1));
      }
    }
    const train = run.tasks.get('train/horizon=1/cycle=1')!.result as { bestParams: Record<string, number>; bestParamsFrom: string };
    expect(train.bestParams).toEqual(hpo.bestParams);
    expect(train.bestParamsFrom).toBe('hpo/horizon=1/cycle=1');
  });
});
