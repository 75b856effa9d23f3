import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { main } from '../src/cli/index.js';
import { resolveShardArg } from '../src/shard/assign.js';

const SPEC = `name: Big_Sweep.v2
matrix: { symbol: [A, B, C, D, E, F], horizon: [1, 5] }
pool: { threads: 2 }
stages:
  - { id: download, plugin: steps, per: [symbol] }
  - { id: train, plugin: steps, needs: [download], resources: { gpu: 1 } }
  - { id: report, plugin: steps, per: [], needs: [train] }
`;

async function generate(extra: string[]): Promise<{ out: string; docs: Record<string, any> }> {
  const dir = mkdtempSync(join(tmpdir(), 'runner-k8s-'));
  writeFileSync(join(dir, 'package.json'), '{}');
  writeFileSync(join(dir, 'job.yaml'), SPEC);
  const out = join(dir, 'k8s');
  const cwd = process.cwd();
  const write = process.stdout.write;
  process.chdir(dir);
  process.stdout.write = (() => true) as never;
  try {
    await main(['k8s', 'job.yaml', '--out', out, ...extra]);
  } finally {
    process.stdout.write = write;
    process.chdir(cwd);
  }
  expect(process.exitCode ?? 0).toBe(0);
  const docs: Record<string, any> = {};
  for (const f of ['shards-job.yaml', 'gather-job.yaml', 'shared-pvc.yaml']) docs[f] = parse(readFileSync(join(out, f), 'utf8'));
  return { out, docs };
}

function validate(doc: any): void {
  if (doc.kind === 'Job') new Job(doc).validate();
  else if (doc.kind === 'PersistentVolumeClaim') new PersistentVolumeClaim(doc).validate();
  else throw new Error(`unexpected kind ${doc.kind}`);
}

describe('runner k8s', () => {
  test('writes manifests that validate against the Kubernetes API schemas (kubernetes-models)', async () => {
    const { out, docs } = await generate(['--shards', '4', '--image', 'registry.example/sweep:1', '--gpus-per-shard', '1', '--parallelism', '3', '--node-selector', 'pool=gpu-a100']);
    for (const d of Object.values(docs)) validate(d);

    const job = docs['shards-job.yaml'];
    expect(job.metadata.name).toBe('big-sweep-v2-shards');
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 4, parallelism: 3, backoffLimitPerIndex: 3, podReplacementPolicy: 'Failed' });
    expect(job.spec.parallelism).toBeLessThanOrEqual(job.spec.completions);
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never'); // required by backoffLimitPerIndex
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true', pool: 'gpu-a100' });
    const c = pod.containers[0];
    expect(c.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(c.args).toEqual(expect.arrayContaining(['start', 'job.yaml', '--gpus', '1']));
    // The store on local disk, snapshots and leases on the shared claim.
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
    expect(env.RUNNER_RUNS_DIR.startsWith('/local/')).toBe(true);
    expect(env.RUNNER_SNAPSHOT_DIR.startsWith('/shared/')).toBe(true);
    expect(pod.volumes).toEqual([
      { name: 'local', emptyDir: { sizeLimit: '20Gi' } },
      { name: 'shared', persistentVolumeClaim: { claimName: 'big-sweep-v2-shared' } },
    ]);
    // What Kubernetes sets plus what the manifest sets is what the runner reads.
    expect(resolveShardArg(undefined, { ...env, JOB_COMPLETION_INDEX: '2' })).toEqual({ index: 2, count: 4 });

    const gather = docs['gather-job.yaml'];
    expect(gather.spec.template.spec.containers[0].args.slice(0, 3)).toEqual(['gather', 'job.yaml', '--wait']);
    expect(docs['shared-pvc.yaml'].spec.accessModes).toEqual(['ReadWriteMany']);
    const dockerfile = readFileSync(join(out, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/app\/node_modules\/.bin\/runner"\]/m);
  });

  test('without GPUs no GPU request or selector; the validator does catch a broken manifest', async () => {
    const { docs } = await generate(['--shards', '2', '--image', 'img:1']);
    const job = docs['shards-job.yaml'];
    validate(job);
    expect(JSON.stringify(job)).not.toContain('nvidia.com/gpu');
    expect(job.spec.template.spec.nodeSelector).toBeUndefined();
    expect(() => validate({ ...job, spec: { ...job.spec, completionMode: 'Sharded' } })).toThrow(/completionMode/);
    expect(() => validate({ ...job, spec: { ...job.spec, backoffLimitPerIndex: 'three' } })).toThrow(/backoffLimitPerIndex/);
  });

  test('parallelism above the shard count is refused', async () => {
    process.exitCode = 0;
    const err = process.stderr.write;
    let text = '';
    process.stderr.write = ((s: string) => ((text += s), true)) as never;
    try {
      const dir = mkdtempSync(join(tmpdir(), 'runner-k8s-'));
      writeFileSync(join(dir, 'package.json'), '{}');
      writeFileSync(join(dir, 'job.yaml'), SPEC);
      await main(['k8s', join(dir, 'job.yaml'), '--shards', '2', '--parallelism', '5', '--image', 'i', '--out', join(dir, 'out')]);
    } finally {
      process.stderr.write = err;
    }
    expect(process.exitCode).toBe(2);
    expect(text).toContain('--parallelism 5');
    process.exitCode = 0;
  });
});
