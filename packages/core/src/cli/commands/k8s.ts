import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { stringify } from 'yaml';
import { usage } from '../../errors.js';
import { planRun } from '../../run/plan.js';
import { resolveShardKey, splitPlan } from '../../shard/assign.js';
import { buildManifests, DOCKERIGNORE, dockerfile, k8sName } from '../../shard/k8s.js';
import { parseEvery } from '../../shard/run.js';
import { writeFileAtomic } from '../../util/fs.js';
import { loadSpec, print, withSpec, type SpecArgs } from '../shared.js';

interface K8sArgs extends SpecArgs {
  shards: number;
  image: string;
  gpusPerShard: number;
  parallelism?: number;
  threads?: number;
  memory: string;
  namespace?: string;
  name?: string;
  shardBy?: string[];
  sharedClaim?: string;
  sharedSize: string;
  storageClass?: string;
  localSize: string;
  nodeSelector?: string[];
  backoffLimitPerIndex: number;
  snapshotEvery: string;
  out?: string;
}

export const k8sCommand: CommandModule<object, K8sArgs> = {
  command: 'k8s <spec>',
  describe: 'Write Kubernetes manifests for a sharded run: an Indexed Job of shards, a gather Job, a shared volume claim, a Dockerfile',
  builder: (y) =>
    withSpec(y)
      .option('shards', { type: 'number', demandOption: true, describe: 'Number of shards (the Indexed Job’s completions)' })
      .option('image', { type: 'string', demandOption: true, describe: 'Container image with the project (build it from the Dockerfile written alongside)' })
      .option('gpus-per-shard', { type: 'number', default: 0, describe: 'GPUs each shard pod requests (nvidia.com/gpu); one runner per GPU is the supported shape' })
      .option('parallelism', { type: 'number', describe: 'Shard pods at once (default: all; at most --shards)' })
      .option('threads', { type: 'number', describe: 'Worker threads per shard, and CPUs requested (default: pool.threads)' })
      .option('memory', { type: 'string', default: '4Gi', describe: 'Memory per pod' })
      .option('namespace', { type: 'string', describe: 'Namespace for the objects' })
      .option('name', { type: 'string', describe: 'Name prefix of the objects (default: the spec’s name)' })
      .option('shard-by', { type: 'string', array: true, describe: 'Matrix keys that pick a cell’s shard (default: the keys every per-cell stage shares)' })
      .option('shared-claim', { type: 'string', describe: 'An existing ReadWriteMany claim for snapshots and data (default: <name>-shared, written too)' })
      .option('shared-size', { type: 'string', default: '20Gi', describe: 'Size of the shared claim' })
      .option('storage-class', { type: 'string', describe: 'Storage class of the shared claim (one that offers ReadWriteMany, e.g. NFS or CephFS)' })
      .option('local-size', { type: 'string', default: '20Gi', describe: 'Local scratch per pod (emptyDir sizeLimit), where the store lives' })
      .option('node-selector', { type: 'string', array: true, describe: 'key=value node labels the pods need (repeatable)' })
      .option('backoff-limit-per-index', { type: 'number', default: 3, describe: 'Restarts of one shard before Kubernetes gives up on it' })
      .option('snapshot-every', { type: 'string', default: '60s', describe: 'Snapshot at most this long after a task completes or checkpoints' })
      .option('out', { type: 'string', describe: 'Directory to write to (default: k8s/<name>)' })
      .example('$0 k8s job.yaml --shards 8 --image registry.example/runner-job:1', 'Write k8s/<name>/*.yaml and a Dockerfile')
      .example('$0 k8s job.yaml --shards 4 --gpus-per-shard 1 --image img', 'One GPU per shard') as never,
  handler: async (args) => {
    const spec = await loadSpec(args);
    parseEvery(args.snapshotEvery);
    const nodeSelector: Record<string, string> = {};
    for (const kv of args.nodeSelector ?? []) {
      const i = kv.indexOf('=');
      if (i <= 0) throw usage(`--node-selector ${kv}: expected key=value`);
      nodeSelector[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const key = resolveShardKey(spec, args.shardBy);
    const m = buildManifests(spec, {
      shards: args.shards,
      image: args.image,
      parallelism: args.parallelism,
      gpusPerShard: args.gpusPerShard,
      threads: args.threads,
      memory: args.memory,
      namespace: args.namespace,
      name: args.name,
      key,
      sharedClaim: args.sharedClaim,
      sharedSize: args.sharedSize,
      storageClass: args.storageClass,
      localSize: args.localSize,
      nodeSelector,
      backoffLimitPerIndex: args.backoffLimitPerIndex,
      snapshotEvery: args.snapshotEvery,
    });
    const root = spec.source.projectRoot;
    const out = resolve(args.out ?? join(root, 'k8s', k8sName(args.name ?? spec.name)));
    const lock = existsSync(join(root, 'pnpm-lock.yaml')) ? 'pnpm' : existsSync(join(root, 'package-lock.json')) ? 'npm' : 'none';
    const files: [string, string][] = [
      ['shards-job.yaml', stringify(m.shards)],
      ['gather-job.yaml', stringify(m.gather)],
      ['Dockerfile', dockerfile(lock, args.gpusPerShard > 0)],
      ['Dockerfile.dockerignore', DOCKERIGNORE],
    ];
    if (!args.sharedClaim) files.unshift(['shared-pvc.yaml', stringify(m.claim)]);
    for (const [f, text] of files) await writeFileAtomic(join(out, f), text);
    const plan = planRun(spec);
    const split = splitPlan(spec, plan, key, args.shards);
    const sizes = split.shards.map((s) => s.size);
    const empty = sizes.filter((n) => n === 0).length;
    const rel = relative(process.cwd(), out) || '.';
    print(`wrote ${files.map(([f]) => join(rel, f)).join(', ')}`);
    print(`${args.shards} shards by ${key.join(',')}: ${Math.min(...sizes)}–${Math.max(...sizes)} tasks each${empty ? ` (${empty} empty: fewer cells than shards)` : ''}; ${split.gather.size} fan-in tasks in the gather Job`);
    print(`next: docker build -t ${args.image} -f ${join(rel, 'Dockerfile')} ${relative(process.cwd(), root) || '.'} && docker push ${args.image} && kubectl apply -f ${rel}`);
  },
};
