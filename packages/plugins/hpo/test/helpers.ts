import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadJobSpec, Runner, RunStore, type RunSummary, type TaskRecord } from '@runner/core';
import { readStudy, runStudies, type StoredStudy } from '../src/index.js';

export const OBJECTIVE = fileURLToPath(new URL('./fixtures/objective.mjs', import.meta.url));

export interface SpecOptions {
  name?: string;
  cycle?: number | number[];
  matrix?: Record<string, (string | number)[]>;
  threads?: number;
  hpo: Record<string, unknown>;
  train?: Record<string, unknown>;
  /** Add a downstream stage that needs hpo (the objective, training with bestParams). */
  final?: boolean;
  extra?: string;
}

/** A job spec: an hpo stage whose objective is the `train` stage (the fixture objective plugin). */
export function spec(o: SpecOptions): string {
  const matrix = o.matrix ?? { symbol: ['A'] };
  return [
    `name: ${o.name ?? 'hpo-test'}`,
    `plugins: [${JSON.stringify(OBJECTIVE)}]`,
    `matrix: ${JSON.stringify(matrix)}`,
    `cycle: ${JSON.stringify(o.cycle ?? 1)}`,
    `pool: { threads: ${o.threads ?? 2} }`,
    'lease: { heartbeatMs: 200 }',
    o.extra ?? '',
    'stages:',
    '  - id: hpo',
    '    plugin: hpo',
    `    options: ${JSON.stringify({ objective: { stage: 'train', metric: 'val_loss' }, ...o.hpo })}`,
    '  - id: train',
    '    plugin: objective',
    ...(o.final ? ['    needs: [hpo]'] : []),
    `    options: ${JSON.stringify({ epochs: 4, ...o.train })}`,
    '',
  ].join('\n');
}

export async function runSpec(dir: string, file = 'job.yaml'): Promise<RunSummary> {
  const s = await loadJobSpec(join(dir, file), { cwd: dir });
  return new Runner(s).run();
}

export interface RunState {
  tasks: Map<string, TaskRecord>;
  study(name: string): StoredStudy | undefined;
}

/** Reads tasks and studies of a finished run (read-only). */
export function readRun(dir: string, name = 'hpo-test'): RunState {
  const store = RunStore.open(join(dir, 'runs', name), { readOnly: true });
  try {
    const tasks = new Map<string, TaskRecord>();
    for (const { key, value } of store.storedTasks()) tasks.set(key, structuredClone(value));
    const db = runStudies(store);
    const studies = new Map<string, StoredStudy | undefined>();
    // Read every study now: the store closes below.
    for (const id of tasks.keys()) if (id.startsWith('hpo/') && !id.includes('/trial=') && !/\/s\d+\.trial=/.test(id)) studies.set(id, db ? readStudy(db, id) : undefined);
    return { tasks, study: (n) => studies.get(n) };
  } finally {
    void store.close();
  }
}

export function trace(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'trace.log'), 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
