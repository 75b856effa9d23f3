import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildTaskPayload } from './build.js';

const input = {
  record: { id: 'hpo/cycle=1/trial=3', stage: 'train', cell: {}, cycle: 1, attempts: 1, failures: 0, fingerprint: 'fp', checkpointSeq: 7, parent: 'hpo/cycle=1' },
  plugin: { name: 'train', version: '1.0.0', entry: '/p/train.js', source: 'builtin' as const },
  options: Object.freeze({ epochs: 3 }),
  lastCheckpoint: { seq: 7, step: 2, total: 3, type: 'periodic' as const, fingerprint: 'fp', pluginVersion: '1.0.0' },
  run: { name: 'study', runDir: '/runs/study', dataDir: '/data' },
  upstream: { data: { id: 'data/cycle=1', stage: 'data', cell: {}, result: 1, artifactDir: '/a' } },
  gpus: [1, 2],
  checkpoints: { keep: 3, inlineMaxBytes: 4096 },
  ownerId: 'host:1:abc',
  progressIntervalMs: 100,
};

describe('payload: what a worker gets', () => {
  test('task info, plugin, run paths, upstream, GPUs and checkpoint settings come from the record and the run', () => {
    const { payload, resumeFrom } = buildTaskPayload(input);
    expect(payload.info).toEqual({ id: 'hpo/cycle=1/trial=3', stage: 'train', plugin: 'train', cell: {}, cycle: 1, attempt: 1, failures: 0, resumed: true, run: 'study', parent: 'hpo/cycle=1' });
    expect(resumeFrom).toEqual({ seq: 7, step: 2, total: 3, type: 'periodic' });
    expect(payload.pluginEntry).toBe('/p/train.js');
    expect(payload.pluginSource).toBe('builtin');
    expect(payload.options).toEqual({ epochs: 3 });
    expect(payload.artifactDir.startsWith(join('/runs/study', ''))).toBe(true);
    expect(payload.artifactDir).toContain('trial=3');
    expect(payload.upstream).toBe(input.upstream);
    expect(payload.resources).toEqual({ gpu: [1, 2] });
    // Saves continue after the last sequence number handed out, under this runner's ownership.
    expect(payload.checkpoint).toEqual({ fingerprint: 'fp', pluginVersion: '1.0.0', keep: 3, inlineMaxBytes: 4096, lastSeq: 7, ownerId: 'host:1:abc' });
    expect(payload.progressIntervalMs).toBe(100);
  });

  test('a top-level task has no parent field and, without GPUs, no resources', () => {
    const { payload } = buildTaskPayload({ ...input, record: { ...input.record, parent: undefined }, gpus: [] });
    expect('parent' in payload.info).toBe(false);
    expect(payload.resources).toEqual({});
  });
});
