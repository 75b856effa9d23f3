/**
 * Two shapes of a job spec: what a user writes ({@link UserJobSpec}, everything optional but
 * `name` and `stages`), and the resolved spec ({@link ResolvedJobSpec}) with defaults filled,
 * paths made absolute and plugins loaded, read-only.
 */
import type { LoadedPlugin } from '../plugin/load.js';
import type { Scalar } from '../plugin/types.js';

export interface UserRetries {
  max?: number;
  backoff?: { initialMs?: number; factor?: number; maxMs?: number };
}

export interface UserStage {
  id: string;
  plugin: string;
  description?: string;
  needs?: string[];
  per?: string[];
  options?: Record<string, unknown>;
  retries?: UserRetries;
  resources?: Record<string, number>;
  isolation?: 'thread' | 'process';
  timeoutMs?: number;
}

export interface UserJobSpec {
  $schema?: string;
  name: string;
  description?: string;
  matrix?: Record<string, Scalar[]>;
  cycle?: number | number[];
  pool?: { threads?: number; gpus?: number; isolation?: 'thread' | 'process'; maxOldGenerationSizeMb?: number };
  runsDir?: string;
  dataDir?: string;
  plugins?: string[];
  checkpoints?: { keep?: number; keepOnComplete?: number; inlineMaxBytes?: number };
  retries?: UserRetries;
  lease?: { ttlMs?: number; heartbeatMs?: number };
  cancel?: { graceMs?: number };
  pluginDefaults?: Record<string, Record<string, unknown>>;
  stages: UserStage[];
}

export interface ResolvedRetries {
  readonly max: number;
  readonly backoff: { readonly initialMs: number; readonly factor: number; readonly maxMs: number };
}

export interface ResolvedStage {
  readonly id: string;
  readonly index: number;
  readonly plugin: LoadedPlugin;
  readonly description?: string;
  readonly needs: readonly string[];
  /** Matrix keys this stage runs over. */
  readonly per: readonly string[];
  /** Validated, defaulted, frozen. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly retries: ResolvedRetries;
  readonly resources: Readonly<Record<string, number>>;
  readonly isolation: 'thread' | 'process';
  readonly timeoutMs?: number;
}

export interface ResolvedJobSpec {
  readonly name: string;
  readonly description?: string;
  readonly matrix: Readonly<Record<string, readonly Scalar[]>>;
  readonly cycles: readonly number[];
  readonly pool: {
    readonly threads: number;
    readonly gpus: number;
    readonly isolation: 'thread' | 'process';
    readonly maxOldGenerationSizeMb?: number;
  };
  /** Absolute. */
  readonly runDir: string;
  readonly dataDir: string;
  readonly checkpoints: { readonly keep: number; readonly keepOnComplete: number; readonly inlineMaxBytes: number };
  readonly lease: { readonly ttlMs: number; readonly heartbeatMs: number };
  readonly cancel: { readonly graceMs: number };
  readonly stages: readonly ResolvedStage[];
  readonly source: {
    /** Absolute path of the job spec. */
    readonly specPath: string;
    readonly projectConfigPath?: string;
    readonly projectRoot: string;
    /** `--set` overrides applied. */
    readonly overrides: readonly string[];
  };
}
