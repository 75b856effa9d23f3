import { relative } from 'node:path';
import type { ResolvedJobSpec } from '../config/types.js';
import { usage } from '../errors.js';
import { SHARD_COUNT_ENV } from './assign.js';
import { SHARD_BY_ENV, SNAPSHOT_DIR_ENV, SNAPSHOT_EVERY_ENV } from './run.js';

export interface K8sOptions {
  shards: number;
  image: string;
  /** Pods at once. @default shards */
  parallelism?: number;
  gpusPerShard: number;
  /** Worker threads per shard (and CPUs requested). @default the spec's pool.threads */
  threads?: number;
  memory: string;
  namespace?: string;
  /** Name prefix of the Jobs and the claim. @default the spec's name */
  name?: string;
  key: readonly string[];
  /** Shared volume (ReadWriteMany) for snapshots, leases and downloaded data. */
  sharedClaim?: string;
  sharedSize: string;
  storageClass?: string;
  /** Local scratch per pod (the LMDB store lives here). */
  localSize: string;
  nodeSelector: Record<string, string>;
  backoffLimitPerIndex: number;
  snapshotEvery: string;
}

type Obj = Record<string, unknown>;

const SHARED = '/shared';
const LOCAL = '/local';
const APP = '/app';

/** Kubernetes names: lowercase alphanumerics and '-', at most 63 characters. */
export function k8sName(s: string): string {
  const n = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return n || 'runner';
}

/**
 * The manifests for a sharded run: a claim on a shared volume, an Indexed Job with one pod per
 * shard (each its own store on local disk, snapshotted to the shared volume), and a Job that waits
 * for the shards and runs `runner gather`.
 */
export function buildManifests(spec: ResolvedJobSpec, o: K8sOptions): { claim: Obj; shards: Obj; gather: Obj } {
  if (!Number.isInteger(o.shards) || o.shards < 1) throw usage(`--shards ${o.shards}: expected a whole number ≥ 1`);
  const parallelism = o.parallelism ?? o.shards;
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > o.shards) throw usage(`--parallelism ${parallelism}: expected 1 to ${o.shards} (pods at once; never more than shards)`);
  if (!Number.isInteger(o.gpusPerShard) || o.gpusPerShard < 0) throw usage(`--gpus-per-shard ${o.gpusPerShard}: expected a whole number ≥ 0`);
  const name = k8sName(o.name ?? spec.name);
  const claim = o.sharedClaim ?? `${name}-shared`;
  const threads = o.threads ?? spec.pool.threads;
  const specPath = relative(spec.source.projectRoot, spec.source.specPath).split('\\').join('/');
  const labels = { 'app.kubernetes.io/name': 'runner', 'app.kubernetes.io/instance': name };
  const meta = (n: string, component: string) => ({ name: n, ...(o.namespace ? { namespace: o.namespace } : {}), labels: { ...labels, 'app.kubernetes.io/component': component } });
  const env = [
    { name: 'RUNNER_RUNS_DIR', value: `${LOCAL}/runs` },
    { name: SNAPSHOT_DIR_ENV, value: `${SHARED}/snapshots` },
    { name: SNAPSHOT_EVERY_ENV, value: o.snapshotEvery },
    { name: 'NO_COLOR', value: '1' },
  ];
  const volumes = [
    { name: 'local', emptyDir: { sizeLimit: o.localSize } },
    { name: 'shared', persistentVolumeClaim: { claimName: claim } },
  ];
  const mounts = [
    { name: 'local', mountPath: LOCAL },
    { name: 'shared', mountPath: SHARED },
  ];
  const gpu = o.gpusPerShard > 0;
  const resources = {
    requests: { cpu: String(threads), memory: o.memory, ...(gpu ? { 'nvidia.com/gpu': String(o.gpusPerShard) } : {}) },
    limits: { memory: o.memory, ...(gpu ? { 'nvidia.com/gpu': String(o.gpusPerShard) } : {}) },
  };
  const nodeSelector = { ...(gpu ? { 'nvidia.com/gpu.present': 'true' } : {}), ...o.nodeSelector };
  const common = ['--set', `dataDir=${SHARED}/data`, '--plain'];
  // Grace for SIGTERM: running tasks save a cancellation checkpoint, then a last snapshot.
  const grace = Math.ceil(spec.cancel.graceMs / 1000) + 60;

  const shards: Obj = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(`${name}-shards`, 'shard'),
    spec: {
      completionMode: 'Indexed',
      completions: o.shards,
      parallelism,
      // Each index retries on its own; one failing shard does not stop the others.
      backoffLimitPerIndex: o.backoffLimitPerIndex,
      maxFailedIndexes: o.shards,
      // A replacement pod starts only once the old one is gone: never two writers per shard.
      podReplacementPolicy: 'Failed',
      podFailurePolicy: {
        rules: [
          // A drained or lost node is not the shard's fault: retry without spending its budget.
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
          // Exit 2 is a bad spec or argument: retrying cannot help.
          { action: 'FailIndex', onExitCodes: { containerName: 'runner', operator: 'In', values: [2] } },
        ],
      },
      template: {
        metadata: { labels: { ...labels, 'app.kubernetes.io/component': 'shard' } },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: grace,
          ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
          ...(gpu ? { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] } : {}),
          containers: [
            {
              name: 'runner',
              image: o.image,
              workingDir: APP,
              // Kubernetes sets JOB_COMPLETION_INDEX in each pod of an Indexed Job.
              args: ['start', specPath, '--threads', String(threads), ...(gpu ? ['--gpus', String(o.gpusPerShard)] : []), ...common],
              env: [
                { name: SHARD_COUNT_ENV, value: String(o.shards) },
                { name: SHARD_BY_ENV, value: o.key.join(',') },
                ...env,
                ...(gpu ? [{ name: 'NVIDIA_DRIVER_CAPABILITIES', value: 'compute,utility,graphics' }] : []),
              ],
              resources,
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };

  const gather: Obj = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(`${name}-gather`, 'gather'),
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: o.backoffLimitPerIndex,
      podReplacementPolicy: 'Failed',
      template: {
        metadata: { labels: { ...labels, 'app.kubernetes.io/component': 'gather' } },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: grace,
          containers: [
            {
              name: 'runner',
              image: o.image,
              workingDir: APP,
              // Waits until every shard's snapshot is complete, then runs the fan-in stages.
              args: ['gather', specPath, '--wait', '--threads', String(threads), ...common],
              env,
              resources: { requests: { cpu: String(threads), memory: o.memory }, limits: { memory: o.memory } },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };

  const pvc: Obj = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta(claim, 'storage'),
    spec: {
      accessModes: ['ReadWriteMany'],
      ...(o.storageClass ? { storageClassName: o.storageClass } : {}),
      resources: { requests: { storage: o.sharedSize } },
    },
  };
  return { claim: pvc, shards, gather };
}

/** A Dockerfile for the project's image: Node 20, the project and its dependencies, `runner` as entry point. */
export function dockerfile(lockfile: 'pnpm' | 'npm' | 'none', gpu: boolean): string {
  const install =
    lockfile === 'pnpm'
      ? 'RUN npx -y pnpm@10.34.8 install --frozen-lockfile'
      : lockfile === 'npm'
        ? 'RUN npm ci'
        : 'RUN npm install';
  return `# Built by \`runner k8s\`: the project (job specs, plugins, lockfile) and its dependencies.
# docker build -t <image> -f <this file> <project root>
${gpu ? '# GPU shards: the NVIDIA container toolkit provides the driver; the webgpu backend needs Vulkan\n# (NVIDIA_DRIVER_CAPABILITIES includes graphics in the generated Job).\n' : ''}FROM node:20-bookworm-slim
${gpu ? 'RUN apt-get update && apt-get install -y --no-install-recommends libvulkan1 && rm -rf /var/lib/apt/lists/*\n' : ''}WORKDIR ${APP}
COPY . .
${install}
ENV NODE_ENV=production
ENTRYPOINT ["${APP}/node_modules/.bin/runner"]
`;
}

export const DOCKERIGNORE = `runs/
node_modules/
**/node_modules/
.git/
k8s/
`;
