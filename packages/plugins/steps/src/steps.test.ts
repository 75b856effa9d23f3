import { describe, expect, test } from 'vitest';
import { runPlugin, testResume } from '@runner/core/testing';
import steps from './index.js';

describe('steps plugin', () => {
  test('counts to steps and returns a deterministic value', async () => {
    const a = await runPlugin(steps, { steps: 30, checkpointEvery: 10 });
    const b = await runPlugin(steps, { steps: 30, checkpointEvery: 10 });
    expect(a.outcome).toBe('completed');
    expect(a.result?.executed).toBe(30);
    expect(a.result?.value).toBe(b.result?.value);
    expect(a.checkpoints.map((c) => c.step)).toEqual([10, 20]);
  });

  test('interrupt + resume equals an uninterrupted run (crash and cancel)', async () => {
    const report = await testResume(steps, { steps: 40, checkpointEvery: 10 }, { normalize: (r) => ({ steps: r.steps, value: r.value }) });
    expect(report.points.length).toBeGreaterThanOrEqual(8);
    for (const p of report.points) {
      // A crash loses at most the steps since the last checkpoint.
      expect(p.resumedFrom ?? 0).toBeGreaterThanOrEqual(Math.floor((p.step - 1) / 10) * 10 - (p.mode === 'cancel' ? 0 : 0));
    }
    const cancel = report.points.find((p) => p.mode === 'cancel' && p.step === 15)!;
    // A cancel saves a checkpoint where it stopped, so nothing is redone.
    expect(cancel.resumedFrom).toBe(15);
  });

  test('injected failure fails the first attempts and saves a failure checkpoint', async () => {
    const first = await runPlugin(steps, { steps: 20, checkpointEvery: 5, failAtStep: 12, failTimes: 1 });
    expect(first.outcome).toBe('failed');
    expect(first.error?.message).toMatch(/injected failure at step 12/);
    expect(first.checkpoints.at(-1)).toMatchObject({ type: 'failure', step: 11 });
    const second = await runPlugin(steps, { steps: 20, checkpointEvery: 5, failAtStep: 12, failTimes: 1 }, { dir: first.dir });
    expect(second.outcome).toBe('completed');
    expect(second.resumedFrom).toBe(11);
    expect(second.result?.executed).toBe(9);
  });
});
