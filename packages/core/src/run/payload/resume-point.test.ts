import { describe, expect, test } from 'vitest';
import { buildTaskPayload, resumePoint } from './build.js';

const record = { id: 'train/symbol=AAPL/cycle=1', stage: 'train', cell: { symbol: 'AAPL' }, cycle: 1, attempts: 2, failures: 1, fingerprint: 'fp1', checkpointSeq: 4 };
const plugin = { name: 'train', version: '2.3.0', entry: '/p/train.js', source: 'path' as const };
const last = { seq: 4, step: 300, total: 1000, type: 'periodic' as const, fingerprint: 'fp1', pluginVersion: '2.1.0' };

describe('payload: whether the attempt resumes from the newest checkpoint', () => {
  test('same options fingerprint and same major version of the plugin: it resumes, from that checkpoint', () => {
    expect(resumePoint({ record, plugin, lastCheckpoint: last })).toEqual({ seq: 4, step: 300, total: 1000, type: 'periodic' });
  });

  test('options changed (another fingerprint): it starts fresh', () => {
    expect(resumePoint({ record, plugin, lastCheckpoint: { ...last, fingerprint: 'fp0' } })).toBeUndefined();
  });

  test('a new major version of the plugin: it starts fresh', () => {
    expect(resumePoint({ record, plugin, lastCheckpoint: { ...last, pluginVersion: '1.9.9' } })).toBeUndefined();
  });

  test('no checkpoint: it starts fresh, and the payload says so', () => {
    const { payload, resumeFrom } = buildTaskPayload({
      record,
      plugin,
      options: {},
      run: { name: 'demo', runDir: '/runs/demo', dataDir: '/data' },
      upstream: {},
      gpus: [],
      checkpoints: { keep: 3, inlineMaxBytes: 1024 },
      ownerId: 'o',
      progressIntervalMs: 100,
    });
    expect(resumeFrom).toBeUndefined();
    expect(payload.info.resumed).toBe(false);
  });
});
