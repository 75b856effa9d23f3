import { describe, expect, test } from 'vitest';
import { testResume } from '@runner/core/testing';
import plugin from './index.js';
import { outcome, small } from '../test/helpers.js';

// Interrupt during epochs 2, 3 and 4 of 6 with a checkpoint after every epoch: a crash resumes
// from the checkpoint of epoch 1, 2 or 3, a cancel from the middle of the epoch it stopped in.
const interruptAt = [1.5, 2.5, 3.5];

describe.each([
  ['cpu', 'adam'],
  ['cpu', 'rmsprop'],
  ['wasm', 'adam'],
  ['wasm', 'rmsprop'],
] as const)('bit-identical resume on %s with %s', (backend, optimizer) => {
  test('crash or cancel, then resume, gives the same weights byte for byte', async () => {
    const report = await testResume(
      plugin,
      small({ backend, optimizer: { [optimizer]: { lr: 0.01 } } }),
      { interruptAt, normalize: outcome },
    );
    expect(report.uninterrupted.result?.backend).toBe(backend);
    const crash = report.points.filter((p) => p.mode === 'crash').map((p) => p.resumedFrom);
    const cancel = report.points.filter((p) => p.mode === 'cancel').map((p) => p.resumedFrom);
    expect(crash).toEqual([1, 2, 3]);
    // A cancel saves where it stopped: mid-epoch, after the batch that reported the step.
    expect(cancel).toEqual([1.5, 2.5, 3.5]);
  });
});
