/**
 * Optuna-style studies that survive crashes: `createStudy`, `study.ask()`, `trial.suggest*()`,
 * `trial.report()`/`shouldPrune()`, `study.tell()`, `study.optimize()`, `study.enqueue()`.
 *
 * What differs from Optuna, on purpose:
 * - `optimize({ trials })` is a target for the study's finished (complete + pruned) trials, not a
 *   number of calls: running it again after a crash continues to the same target.
 * - The sampler's RNG is stored with every trial, so a re-opened seeded study continues the
 *   stream instead of repeating its first suggestions.
 * - Trials left RUNNING by a session that is gone are recorded as interrupted and retried under
 *   the same number and with the same parameters; nothing stays RUNNING. Only interruptions the
 *   trial may have caused itself count against `retryInterrupted` (see CreateStudyOptions).
 *
 * @example
 * ```ts
 * import { createStudy } from '@runner/plugin-hpo';
 *
 * const study = await createStudy({ name: 'demo', storage: ctx.db('studies'), sampler: { type: 'tpe', seed: 7 } });
 * await study.optimize(async (trial) => {
 *   const x = trial.suggestFloat('x', -10, 10);
 *   return (x - 2) ** 2;
 * }, { trials: 100 });
 * console.log(study.bestParams, study.bestValue);
 * await study.close();
 * ```
 */
import { randomBytes } from 'node:crypto';
import { HpoError, isTrialPruned, TrialPruned } from './errors.js';
import { COMPLETE_STEP_KEY, History } from './history.js';
import { NopPruner, PrunerStats, type Pruner, type PrunableTrial } from './pruners/index.js';
import { createPruner } from './pruners/create.js';
import { Rng } from './rng.js';
import { createSampler, samplerHash, type Sampler, type SamplingContext } from './samplers/index.js';
import { newSession, sessionAlive } from './session.js';
import {
  canonical,
  cardinality,
  categoricalDist,
  contains,
  describeDistribution,
  diffSpaces,
  distributionIssues,
  floatDist,
  intDist,
  normalise,
  parseSpace,
  sameDistribution,
  spaceHash,
  toExternal,
  toInternal,
  type Choice,
  type Distribution,
  type ParamValue,
  type Space,
  type SpaceConfig,
} from './space.js';
import {
  copyChunk,
  emptyChunk,
  HIST_CHUNK,
  keys,
  memoryStorage,
  readHistory,
  readLive,
  readSessions,
  readStudy,
  readTrials,
  type HistChunk,
  type NameRecord,
} from './storage.js';
import type {
  Direction,
  FrozenTrial,
  PrunerConfig,
  SamplerConfig,
  SessionRecord,
  StudyMeta,
  StudyState,
  StudyStorage,
  TrialRecord,
  TrialState,
} from './types.js';

export interface CreateStudyOptions {
  /** Unique within the storage, e.g. the task id `hpo/symbol=AAPL/horizon=5/cycle=2`. */
  name: string;
  /** Where the study lives: `ctx.db('studies')` in a plugin. @default memoryStorage() */
  storage?: StudyStorage;
  /** @default 'minimize' */
  direction?: Direction;
  /** @default { type: 'tpe' } */
  sampler?: SamplerConfig | { sampler: Sampler; seed?: number };
  /** @default { type: 'none' } */
  pruner?: PrunerConfig | Pruner;
  /**
   * A fixed search space. Trials are then sampled whole at `ask()` (what `optimize` does), and an
   * existing study whose space differs is not continued (see `onSpaceChange`).
   */
  space?: Space | SpaceConfig;
  /** What to do when the stored study has another space. @default 'error' */
  onSpaceChange?: 'error' | 'new-study';
  /**
   * Which RUNNING trials of an existing study to recover at open: those whose session is gone
   * ('dead', the default), or all of them ('all': this process owns the study, e.g. a runner task).
   */
  recoverRunning?: 'dead' | 'all';
  /**
   * How many *unexplained* interruptions a trial may take before it is marked FAIL; the others
   * never count. An interruption (its session died while the trial ran) is explained, and only
   * retried, when the trial reported a new intermediate value during the attempt that died, or
   * when another trial of the study was running at the same time: then the trial did not stop
   * the process on its own. An unexplained one may be a kill from outside just as well as the
   * trial crashing its process, which this study cannot tell apart; `Infinity` retries every
   * interruption (the hpo stage does this: the runner, which sees every task of the process,
   * decides instead, see docs/resume.md). @default 1
   */
  retryInterrupted?: number;
  /** Lease of this session; its heartbeat renews it at a third of this. @default 60000 */
  leaseMs?: number;
  /** Enqueue the best trials of another study in the same storage, when this study is created. */
  warmStart?: { from: string; topK?: number; history?: boolean };
  /** Receives notes: recovered trials, warm starts, sampler changes. */
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface OptimizeOptions {
  /** Target number of finished (complete + pruned) trials in the study; resume-safe. */
  trials: number;
  /** Trials in flight at once. @default 1 */
  parallel?: number;
  /** Stop starting trials after this many milliseconds. */
  timeout?: number;
  /** Aborting stops new trials; trials in flight that then reject go back to WAITING. */
  signal?: AbortSignal;
  /** Sample trials whole from this space (default: the study's space, if it has one). */
  space?: Space | SpaceConfig;
  /** Stop (throw) after this many failed trials in a row. @default 5 */
  maxConsecutiveFailures?: number;
  /** Called after every trial that ends (any state). */
  onTrialEnd?: (trial: FrozenTrial, study: Study) => void;
}

export interface OptimizeSummary {
  stopped: 'target' | 'timeout' | 'aborted' | 'grid-exhausted';
  complete: number;
  pruned: number;
  failed: number;
  finished: number;
}

export type TellResult = number | { state: 'complete'; value: number } | { state: 'pruned'; value?: number } | { state: 'failed'; error?: string };

export interface StudyCounts {
  waiting: number;
  running: number;
  complete: number;
  pruned: number;
  failed: number;
  /** complete + pruned */
  finished: number;
  total: number;
}

/** Opens the study `name` in `storage`, creating it if needed, and recovers interrupted trials. */
export async function createStudy(options: CreateStudyOptions): Promise<Study> {
  return Study.open(options);
}

/** Opens an existing study; throws HPO_STUDY_NOT_FOUND when there is none. */
export async function loadStudy(options: CreateStudyOptions): Promise<Study> {
  const storage = options.storage ?? memoryStorage();
  if (!storage.get(keys.name(options.name))) {
    throw new HpoError('HPO_STUDY_NOT_FOUND', `no study named "${options.name}" in this storage`, { hint: 'Create it with createStudy().' });
  }
  return Study.open({ ...options, storage });
}

function randomSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

function toSpace(s: Space | SpaceConfig): Space {
  const first = Object.values(s)[0] as unknown as Record<string, unknown> | undefined;
  if (first && typeof first.type === 'string') return Object.fromEntries(Object.entries(s as Space).map(([k, d]) => [k, normalise(d)]));
  const { space, issues } = parseSpace(s as SpaceConfig);
  if (issues.length > 0) {
    throw new HpoError('HPO_SPACE_INVALID', `the search space is invalid: ${issues.map((i) => `space.${i.path.join('.')}: ${i.message}`).join('; ')}`, {
      issues: issues.map((i) => ({ path: `space.${i.path.join('.')}`, message: i.message, hint: i.hint })),
    });
  }
  return space;
}

/** A trial in progress: suggest its parameters, report intermediate values, ask whether to stop. */
export class Trial {
  /** @internal */ readonly rec: TrialRecord;
  /** @internal */ relative = new Map<string, number>();
  /** @internal */ deferWrites = false;

  /** @internal */
  constructor(
    private readonly study: Study,
    rec: TrialRecord,
  ) {
    this.rec = rec;
  }

  get number(): number {
    return this.rec.number;
  }

  get state(): TrialState {
    return this.rec.state;
  }

  /** Parameters suggested so far (all of them after `ask(space)`). */
  get params(): Readonly<Record<string, ParamValue>> {
    return this.rec.params;
  }

  /** 1 on the first start; a retried trial has 2. */
  get attempts(): number {
    return this.rec.attempts;
  }

  get source(): TrialRecord['source'] {
    return this.rec.source;
  }

  get userAttrs(): Readonly<Record<string, unknown>> {
    return this.rec.user ?? {};
  }

  get intermediateValues(): { steps: readonly number[]; values: readonly number[] } {
    return { steps: this.rec.steps ?? [], values: this.rec.values ?? [] };
  }

  suggestFloat(name: string, low: number, high: number, options: { log?: boolean; step?: number } = {}): number {
    return this.suggest(name, floatDist(low, high, options)) as number;
  }

  suggestInt(name: string, low: number, high: number, options: { log?: boolean; step?: number } = {}): number {
    return this.suggest(name, intDist(low, high, options)) as number;
  }

  suggestCategorical<T extends Choice>(name: string, choices: readonly T[]): T {
    return this.suggest(name, categoricalDist(choices)) as T;
  }

  /** Suggests a value of any distribution. */
  suggest(name: string, dist: Distribution): ParamValue {
    return this.study.suggestFor(this, name, dist);
  }

  /** Records an intermediate value (e.g. validation loss after an epoch). A step reported twice keeps the first. */
  report(value: number, step: number): void {
    this.study.reportFor(this, value, step);
  }

  /** Whether the pruner says to stop this trial now, after its latest report. */
  shouldPrune(): boolean {
    return this.study.shouldPruneFor(this);
  }

  setUserAttr(key: string, value: unknown): void {
    this.rec.user = { ...(this.rec.user ?? {}), [key]: value };
    this.study.persistTrial(this);
  }
}

export class Study {
  readonly name: string;
  readonly storage: StudyStorage;
  private meta!: StudyMeta;
  private st!: StudyState;
  /** Trials loaded or touched by this session (all of them once `allLoaded`). */
  private readonly records = new Map<number, TrialRecord>();
  private allLoaded = false;
  private readonly history = new History();
  /** The history chunk being appended to, and its index. */
  private histLog: { chunk: number; cur: HistChunk } = { chunk: 0, cur: emptyChunk() };
  private readonly live = new Map<number, Trial>();
  private waiting: number[] = [];
  private counters = { complete: 0, pruned: 0, failed: 0 };
  private best?: TrialRecord;
  private readonly stats = new PrunerStats();
  private rng!: Rng;
  private sampler!: Sampler;
  private pruner!: Pruner;
  private session!: SessionRecord;
  private heartbeat?: NodeJS.Timeout;
  private readonly writes = new Set<Promise<unknown>>();
  private writeError?: unknown;
  private closed = false;
  private readonly log: (level: 'info' | 'warn', message: string) => void;

  private constructor(name: string, storage: StudyStorage, log: CreateStudyOptions['log']) {
    this.name = name;
    this.storage = storage;
    this.log = log ?? (() => {});
  }

  /** @internal use {@link createStudy} */
  static async open(o: CreateStudyOptions): Promise<Study> {
    if (typeof o?.name !== 'string' || o.name.length === 0) throw new TypeError('createStudy({ name }): the study needs a name, e.g. { name: "my-study" } or { name: ctx.task.id }');
    const storage = o.storage ?? memoryStorage();
    const s = new Study(o.name, storage, o.log);
    await s.init(o);
    return s;
  }

  // ------------------------------------------------------------------ opening

  private async init(o: CreateStudyOptions): Promise<void> {
    const direction = o.direction ?? 'minimize';
    const space = o.space ? toSpace(o.space) : undefined;
    const samplerCfg: SamplerConfig = o.sampler && 'sampler' in o.sampler ? { type: o.sampler.sampler.type as SamplerConfig['type'], seed: o.sampler.seed } : ((o.sampler as SamplerConfig | undefined) ?? { type: 'tpe' });
    this.session = newSession(o.leaseMs ?? 60_000);

    let pointer = this.storage.get<NameRecord>(keys.name(this.name));
    let meta = pointer ? this.storage.get<StudyMeta>(keys.study(pointer.key)) : undefined;
    if (meta) {
      if (meta.direction !== direction) {
        throw new HpoError(
          'HPO_DIRECTION_CHANGED',
          `study "${this.name}" ${meta.direction}s its objective, but ${direction} was asked for. A study keeps its direction: restore direction: ${meta.direction}, or give the study another name.`,
        );
      }
      if (space && meta.space && meta.spaceHash !== spaceHash(space)) {
        const diff = diffSpaces(meta.space, space);
        if ((o.onSpaceChange ?? 'error') === 'error') {
          throw new HpoError(
            'HPO_SPACE_CHANGED',
            `the search space of study "${this.name}" changed since it was created (${diff.join('; ')}); its ${readTrials(this.storage, meta.key).length} trials were sampled from the old space, so it is not continued. ` +
              `Restore the old space, or set onSpaceChange: new-study to start a new study (the old one is kept as "${meta.key}").`,
            { hint: 'onSpaceChange: new-study starts a new study and keeps the old one for reference.' },
          );
        }
        const generation = meta.generation + 1;
        const key = `${this.name}#${generation}`;
        const old = meta;
        this.log('warn', `the search space changed (${diff.join('; ')}); starting study ${key} (the old one, ${old.key}, is kept)`);
        meta = undefined;
        pointer = { key, generation };
        await this.create(o, direction, space, samplerCfg, pointer, old);
      }
    }
    if (!meta && !pointer) {
      pointer = { key: this.name, generation: 1 };
      await this.create(o, direction, space, samplerCfg, pointer);
    }
    meta = this.storage.get<StudyMeta>(keys.study(pointer!.key));
    if (!meta) {
      // Created above but the read did not see the commit yet: should not happen with LMDB.
      throw new Error(`study ${this.name}: its header is missing after creation`);
    }
    this.meta = meta;
    if (space && !meta.space) {
      // A define-by-run study that now gets a fixed space: every parameter must keep its distribution.
      for (const [n, d] of Object.entries(space)) this.checkDistribution(n, d);
    }
    this.st = this.storage.get<StudyState>(keys.state(meta.key)) ?? { next: 0, rng: Rng.fromSeed(meta.sampler.seed, meta.key).state(), samplerHash: samplerHash(samplerCfg, meta.sampler.seed) };

    // The sampler: the RNG continues where the last session stopped, unless the configuration changed.
    const seed = samplerCfg.seed ?? meta.sampler.seed;
    this.sampler = o.sampler && 'sampler' in o.sampler ? o.sampler.sampler : createSampler(samplerCfg, seed);
    const hash = samplerHash(samplerCfg, seed);
    if (hash !== this.st.samplerHash) {
      this.log('info', `the sampler configuration changed; its random stream restarts from seed ${seed} at trial ${this.st.next}`);
      this.rng = Rng.fromSeed(seed, `${meta.key}:${this.st.next}`);
      this.st = { ...this.st, samplerHash: hash, rng: this.rng.state(), sampler: undefined };
    } else {
      this.rng = new Rng(this.st.rng);
    }
    if (this.st.sampler !== undefined) this.sampler.loadState?.(this.st.sampler);
    this.pruner = o.pruner && 'prune' in o.pruner ? o.pruner : createPruner(o.pruner as PrunerConfig | undefined);
    this.stats.state = { ...(this.st.pruner ?? {}) };

    this.loadWarmHistory();
    this.loadHistory();
    await this.loadLive(o);
    // Pruners compare with the intermediate values of completed trials: those live in the trial records.
    if (!(this.pruner instanceof NopPruner)) this.loadAllRecords(true);
    await this.storage.transaction((tx) => {
      tx.put(keys.session(meta!.key, this.session.id), this.session);
      tx.put(keys.state(meta!.key), this.st);
    });
    const every = Math.max(1000, Math.floor(this.session.leaseMs / 3));
    this.heartbeat = setInterval(() => {
      this.session = { ...this.session, heartbeatAt: Date.now() };
      this.queue((tx) => tx.put(keys.session(this.meta.key, this.session.id), this.session));
    }, every);
    this.heartbeat.unref();
  }

  private async create(o: CreateStudyOptions, direction: Direction, space: Space | undefined, samplerCfg: SamplerConfig, pointer: NameRecord, previous?: StudyMeta): Promise<void> {
    const seed = samplerCfg.seed ?? randomSeed();
    const meta: StudyMeta = {
      format: 1,
      key: pointer.key,
      name: this.name,
      generation: pointer.generation,
      direction,
      createdAt: Date.now(),
      dists: space ? { ...space } : {},
      sampler: { type: samplerCfg.type, seed },
      ...(space ? { space, spaceHash: spaceHash(space) } : {}),
      ...(previous ? { previous: previous.key } : {}),
    };
    const state: StudyState = { next: 0, rng: Rng.fromSeed(seed, pointer.key).state(), samplerHash: samplerHash(samplerCfg, seed), failed: 0 };
    const warm: TrialRecord[] = [];
    if (o.warmStart) {
      const prev = readStudy(this.storage, o.warmStart.from);
      if (!prev) {
        this.log('info', `warm start: no study "${o.warmStart.from}" yet; starting cold`);
      } else {
        const sign = direction === 'maximize' ? -1 : 1;
        const done = prev.trials.filter((t) => t.state === 'COMPLETE' && typeof t.value === 'number').sort((a, b) => sign * (a.value! - b.value!) || a.number - b.number);
        const seen = new Set<string>();
        const dropped = new Set<string>();
        for (const t of done) {
          if (warm.length >= (o.warmStart.topK ?? 10)) break;
          const params: Record<string, ParamValue> = {};
          for (const [n, v] of Object.entries(t.params)) {
            if (space && !(n in space)) continue;
            if (space && !contains(space[n]!, v)) {
              dropped.add(n);
              continue;
            }
            params[n] = v;
          }
          const k = canonical(params);
          if (seen.has(k)) continue;
          seen.add(k);
          warm.push({ number: warm.length, state: 'WAITING', params, attempts: 0, source: 'warm-start', from: { study: prev.meta.key, number: t.number, value: t.value } });
        }
        meta.warmStart = {
          from: prev.meta.key,
          enqueued: warm.map((w) => w.number),
          ...(o.warmStart.history ? { historyUpTo: prev.state?.next ?? prev.trials.length } : {}),
        };
        state.next = warm.length;
        const unfinished = prev.trials.filter((t) => t.state === 'RUNNING' || t.state === 'WAITING').length;
        this.log(
          'info',
          `warm start from ${prev.meta.key}: its best ${warm.length} trial${warm.length === 1 ? '' : 's'} run first` +
            (o.warmStart.history ? `, and its ${done.length} complete trials seed the sampler` : '') +
            (dropped.size > 0 ? `; values outside the current space are sampled anew (${[...dropped].join(', ')})` : '') +
            (unfinished > 0 ? `; note: ${prev.meta.key} still has ${unfinished} unfinished trials` : ''),
        );
      }
    }
    await this.storage.transaction((tx) => {
      const cur = tx.get<NameRecord>(keys.name(this.name));
      if (cur && cur.generation >= pointer.generation) return; // created meanwhile by another session
      if (previous) tx.put(keys.study(previous.key), { ...(tx.get<StudyMeta>(keys.study(previous.key)) ?? previous), supersededBy: pointer.key });
      tx.put(keys.study(pointer.key), meta);
      tx.put(keys.state(pointer.key), state);
      for (const w of warm) {
        tx.put(keys.trial(pointer.key, w.number), w);
        tx.put(keys.live(pointer.key, w.number), 1);
      }
      tx.put(keys.name(this.name), pointer);
    });
  }

  /** Warm start in history mode: the earlier study's finished trials become the first observations. */
  private loadWarmHistory(): void {
    const ws = this.meta.warmStart;
    if (!ws || ws.historyUpTo === undefined) return;
    const prev = this.storage.get<StudyMeta>(keys.study(ws.from));
    if (!prev) {
      this.log('warn', `warm start: study ${ws.from} is gone; its trials no longer seed the sampler`);
      return;
    }
    const flip = prev.direction === this.meta.direction ? 1 : -1;
    for (const chunk of readHistory(this.storage, ws.from)) {
      // Values move through the parameter's value, so a changed range keeps what still fits.
      const cols = Object.entries(chunk.cols).flatMap(([name, vals]) => {
        const from = prev.dists[name];
        const to = this.meta.dists[name];
        return from && to ? [{ col: this.history.column(name, to), from, to, vals }] : [];
      });
      for (let r = 0; r < chunk.n; r++) {
        if (chunk.order[r]! >= ws.historyUpTo) continue;
        const values = new Map<number, number>();
        for (const c of cols) {
          const v = c.vals[r]!;
          if (Number.isNaN(v)) continue;
          const ext = toExternal(c.from, v);
          if (contains(c.to, ext)) values.set(c.col, toInternal(c.to, ext));
        }
        this.history.add(chunk.order[r]! - ws.historyUpTo, values, flip * chunk.score[r]!, chunk.stepKey[r]!);
      }
    }
  }

  /** The sampler's history of this study, from its chunks: counts and the best trial come with it. */
  private loadHistory(): void {
    const chunks = readHistory(this.storage, this.meta.key);
    let bestScore = Infinity;
    let bestNumber: number | undefined;
    for (const chunk of chunks) {
      const cols = Object.entries(chunk.cols).flatMap(([name, vals]) => (this.meta.dists[name] ? [{ col: this.history.column(name, this.meta.dists[name]!), vals }] : []));
      for (let r = 0; r < chunk.n; r++) {
        const values = new Map<number, number>();
        for (const c of cols) if (!Number.isNaN(c.vals[r]!)) values.set(c.col, c.vals[r]!);
        const order = chunk.order[r]!;
        const score = chunk.score[r]!;
        this.history.add(order, values, score, chunk.stepKey[r]!);
        if (chunk.stepKey[r] === COMPLETE_STEP_KEY) {
          this.counters.complete++;
          if (score < bestScore || (score === bestScore && order < bestNumber!)) {
            bestScore = score;
            bestNumber = order;
          }
        } else this.counters.pruned++;
      }
    }
    this.counters.failed = this.st.failed ?? 0;
    if (chunks.length > 0) {
      const last = chunks.length - 1;
      this.histLog = chunks[last]!.n < HIST_CHUNK ? { chunk: last, cur: chunks[last]! } : { chunk: last + 1, cur: emptyChunk() };
    }
    if (bestNumber !== undefined) this.best = this.recordOf(bestNumber);
  }

  /** WAITING and RUNNING trials; RUNNING ones whose session is gone are retried or failed. */
  private async loadLive(o: CreateStudyOptions): Promise<void> {
    const recover = o.recoverRunning ?? 'dead';
    const retries = o.retryInterrupted ?? 1;
    const sessions = new Map(readSessions(this.storage, this.meta.key).map((s) => [s.id, s]));
    const now = Date.now();
    const changed: TrialRecord[] = [];
    const stale: number[] = [];
    const live: TrialRecord[] = [];
    for (const n of readLive(this.storage, this.meta.key)) {
      const rec = this.storage.get<TrialRecord>(keys.trial(this.meta.key, n));
      if (!rec || (rec.state !== 'WAITING' && rec.state !== 'RUNNING')) stale.push(n);
      else live.push(rec);
    }
    const orphans = live.filter((rec) => rec.state === 'RUNNING' && (recover === 'all' || !sessionAlive(sessions.get(rec.owner ?? ''), now)));
    const perOwner = new Map<string | undefined, number>();
    for (const rec of orphans) perOwner.set(rec.owner, (perOwner.get(rec.owner) ?? 0) + 1);
    for (const rec of orphans) {
      // Explained: it made progress in the attempt that died, or another trial shared that death.
      const progressed = (rec.steps?.length ?? 0) > (rec.startSteps ?? 0);
      const shared = perOwner.get(rec.owner)! > 1;
      const counted = !progressed && !shared && Number.isFinite(retries);
      const interrupted = (rec.failures ?? []).filter((f) => f.counted).length + (counted ? 1 : 0);
      const why = progressed ? 'it had made progress' : shared ? 'other trials were running too' : undefined;
      rec.failures = [
        ...(rec.failures ?? []),
        { at: now, reason: `interrupted: ${rec.owner ?? 'its session'} stopped while it ran (attempt ${rec.attempts})${why ? `; not counted: ${why}` : ''}`, ...(counted ? { counted: true } : {}) },
      ];
      rec.owner = undefined;
      if (interrupted <= retries) {
        rec.state = 'WAITING';
        this.log('warn', `trial ${rec.number} was left running by a session that is gone; it is retried with the same parameters${counted ? ` (unexplained interruption ${interrupted} of ${retries} allowed)` : ''}`);
      } else {
        rec.state = 'FAIL';
        rec.finishedAt = now;
        delete rec.relative;
        rec.error = `interrupted ${interrupted} times without progress while it ran alone; not retried again`;
        this.log('warn', `trial ${rec.number} was interrupted ${interrupted} times without progress while it ran alone; marked FAIL and not retried`);
        this.counters.failed++;
        stale.push(rec.number);
      }
      changed.push(rec);
    }
    for (const rec of live) {
      this.records.set(rec.number, rec);
      if (rec.state === 'WAITING') insertNumber(this.waiting, rec.number);
      else if (rec.state === 'RUNNING') this.live.set(rec.number, new Trial(this, rec));
    }
    const dead = [...sessions.values()].filter((s) => !sessionAlive(s, now));
    if (changed.length > 0 || dead.length > 0 || stale.length > 0) {
      this.st = { ...this.st, failed: this.counters.failed };
      const st = this.st;
      await this.storage.transaction((tx) => {
        for (const rec of changed) tx.put(keys.trial(this.meta.key, rec.number), rec);
        for (const n of stale) tx.remove(keys.live(this.meta.key, n));
        for (const s of dead) tx.remove(keys.session(this.meta.key, s.id));
        tx.put(keys.state(this.meta.key), st);
      });
    }
  }

  /** Reads every trial record (for `trials`, and for pruners, which need intermediate values). */
  private loadAllRecords(forPruner = false): void {
    if (this.allLoaded && !forPruner) return;
    for (const rec of readTrials(this.storage, this.meta.key)) {
      const mine = this.records.get(rec.number) ?? rec;
      if (!this.records.has(rec.number)) this.records.set(rec.number, rec);
      if (forPruner) {
        if (mine.rungs) for (const [rung, v] of mine.rungs.entries()) this.stats.addRung(mine.bracket ?? 0, rung, v);
        if (mine.state === 'COMPLETE') this.stats.addComplete(mine.steps ?? [], mine.values ?? []);
      }
    }
    this.allLoaded = true;
  }

  private recordOf(n: number): TrialRecord | undefined {
    let rec = this.records.get(n);
    if (!rec) {
      rec = this.storage.get<TrialRecord>(keys.trial(this.meta.key, n));
      if (rec) this.records.set(n, rec);
    }
    return rec;
  }

  /** Counts a trial that just ended; returns the history chunk to store when it joins the history. */
  private finishIndex(rec: TrialRecord): { index: number; chunk: HistChunk } | undefined {
    if (rec.state === 'FAIL') {
      this.counters.failed++;
      return undefined;
    }
    if (rec.state === 'COMPLETE') {
      this.counters.complete++;
      this.stats.addComplete(rec.steps ?? [], rec.values ?? []);
      if (!this.best || this.better(rec.value!, this.best.value!) || (rec.value === this.best.value && rec.number < this.best.number)) this.best = rec;
    } else if (rec.state === 'PRUNED') {
      this.counters.pruned++;
    } else return undefined;
    const row = this.historyRow(rec);
    const values = new Map<number, number>();
    for (const [name, v] of row.values) values.set(this.history.column(name, this.meta.dists[name]!), v);
    this.history.add(rec.number, values, row.score, row.stepKey);
    let h = this.histLog;
    if (h.cur.n === HIST_CHUNK) h = this.histLog = { chunk: h.chunk + 1, cur: emptyChunk() };
    const i = h.cur.n++;
    h.cur.order[i] = rec.number;
    h.cur.score[i] = row.score;
    h.cur.stepKey[i] = row.stepKey;
    for (const col of Object.values(h.cur.cols)) col[i] = NaN;
    for (const [name, v] of row.values) (h.cur.cols[name] ??= new Float64Array(HIST_CHUNK).fill(NaN))[i] = v;
    return { index: h.chunk, chunk: copyChunk(h.cur) };
  }

  /** A finished trial as the samplers see it: signed score, rank key, internal parameter values. */
  private historyRow(rec: TrialRecord): { score: number; stepKey: number; values: [string, number][] } {
    const sign = this.meta.direction === 'maximize' ? -1 : 1;
    let score: number;
    let stepKey: number;
    if (rec.state === 'COMPLETE') {
      score = sign * rec.value!;
      stepKey = COMPLETE_STEP_KEY;
    } else if (rec.steps && rec.steps.length > 0) {
      let i = 0;
      for (let k = 1; k < rec.steps.length; k++) if (rec.steps[k]! >= rec.steps[i]!) i = k;
      const v = rec.values![i]!;
      score = Number.isNaN(v) ? Infinity : sign * v;
      stepKey = -rec.steps[i]!;
    } else {
      score = 0;
      stepKey = 1;
    }
    const values: [string, number][] = [];
    for (const [n, v] of Object.entries(rec.params)) {
      const d = this.meta.dists[n];
      if (d && contains(d, v)) values.push([n, toInternal(d, v)]);
    }
    return { score, stepKey, values };
  }

  private better(a: number, b: number): boolean {
    return this.meta.direction === 'maximize' ? a > b : a < b;
  }

  private checkDistribution(name: string, d: Distribution): void {
    const known = this.meta.dists[name];
    if (known && !sameDistribution(known, d)) {
      throw new HpoError(
        'HPO_DISTRIBUTION_CHANGED',
        `parameter "${name}" of study "${this.name}" is ${describeDistribution(known)}, but ${describeDistribution(d)} was asked for. A parameter keeps its distribution within a study: use the old one, another parameter name, or a new study.`,
      );
    }
  }

  // ------------------------------------------------------------------ writes

  private checkWrites(): void {
    if (this.closed) throw new Error(`study "${this.name}" is closed`);
    if (this.writeError) throw this.writeError;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.writes.add(p);
    void p.then(
      () => this.writes.delete(p),
      (err) => {
        this.writes.delete(p);
        this.writeError ??= err;
      },
    );
    return p;
  }

  /** A write nobody waits for (reports, heartbeats); a failure surfaces at the next ask or tell. */
  private queue(fn: Parameters<StudyStorage['transaction']>[0]): void {
    this.track(this.storage.transaction(fn)).catch(() => {});
  }

  /** @internal */
  persistTrial(t: Trial): void {
    if (t.deferWrites || this.closed) return;
    const rec = structuredClone(t.rec);
    const st = { ...this.st, rng: this.rng.state() };
    const meta = this.metaDirty ? structuredClone(this.meta) : undefined;
    this.metaDirty = false;
    this.st = st;
    this.queue((tx) => {
      tx.put(keys.trial(this.meta.key, rec.number), rec);
      tx.put(keys.state(this.meta.key), st);
      if (meta) tx.put(keys.study(meta.key), meta);
    });
  }

  private metaDirty = false;
  /** Spaces already normalised and checked against the study's distributions. */
  private readonly checkedSpaces = new WeakSet<Space>();

  /** Waits until every write so far is committed. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes]);
    if (this.writeError) throw this.writeError;
  }

  // ------------------------------------------------------------------ reading

  get key(): string {
    return this.meta.key;
  }

  get direction(): Direction {
    return this.meta.direction;
  }

  /** The fixed space the study was created with, if any. */
  get space(): Space | undefined {
    return this.meta.space;
  }

  /** Every parameter seen, with its distribution. */
  get distributions(): Readonly<Record<string, Distribution>> {
    return this.meta.dists;
  }

  get warmStart(): StudyMeta['warmStart'] {
    return this.meta.warmStart;
  }

  /** All trials, in number order (copies). */
  get trials(): FrozenTrial[] {
    this.loadAllRecords();
    return [...this.records.values()].sort((a, b) => a.number - b.number).map((r) => structuredClone(r));
  }

  /** Finished (complete + pruned) trials. */
  get finished(): number {
    return this.counters.complete + this.counters.pruned;
  }

  get counts(): StudyCounts {
    const { complete, pruned, failed } = this.counters;
    const waiting = this.waiting.length;
    const running = this.live.size;
    return { waiting, running, complete, pruned, failed, finished: complete + pruned, total: complete + pruned + failed + waiting + running };
  }

  /** The best COMPLETE trial. */
  get bestTrial(): FrozenTrial | undefined {
    return this.best ? structuredClone(this.best) : undefined;
  }

  get bestValue(): number | undefined {
    return this.best?.value;
  }

  get bestParams(): Record<string, ParamValue> | undefined {
    return this.best ? { ...this.best.params } : undefined;
  }

  // ------------------------------------------------------------------ ask / tell

  /** The target of the running optimize (samplers may plan with it: `sampler: { type: auto }`). */
  private budget?: number;

  private samplingContext(exclude: number): SamplingContext {
    const running: Map<string, number>[] = [];
    for (const [n, t] of this.live) {
      if (n === exclude) continue;
      const m = new Map<string, number>();
      for (const [name, v] of Object.entries(t.rec.params)) {
        const d = this.meta.dists[name];
        if (d && contains(d, v)) m.set(name, toInternal(d, v));
      }
      running.push(m);
    }
    return { rng: this.rng, history: this.history, running, trialNumber: exclude, studyName: this.meta.key, budget: this.budget };
  }

  /** True when a grid sampler has no point left for `space` (and nothing is waiting). */
  exhausted(space?: Space | SpaceConfig): boolean {
    const s = space ? toSpace(space) : this.meta.space;
    if (!s || !this.sampler.exhausted || this.waiting.length > 0) return false;
    return this.sampler.exhausted(this.samplingContext(-1), s);
  }

  /**
   * Starts the next trial: a waiting one (retry, enqueued, warm start) if any, else a new one.
   * With a space (given here or to createStudy), every parameter is sampled now and stored before
   * this resolves; without one, parameters are sampled as the objective suggests them.
   */
  async ask(spaceArg?: Space | SpaceConfig): Promise<Trial> {
    this.checkWrites();
    const space = spaceArg ?? this.meta.space;
    const fixed = space === undefined ? undefined : this.checkedSpaces.has(space as Space) ? (space as Space) : toSpace(space);
    if (fixed && !this.checkedSpaces.has(fixed)) {
      for (const [n, d] of Object.entries(fixed)) this.checkDistribution(n, d);
      this.checkedSpaces.add(fixed);
    }
    const now = Date.now();
    const fromWaiting = this.waiting.length > 0;
    const number = fromWaiting ? this.waiting.shift()! : this.st.next;
    const rec: TrialRecord = fromWaiting ? this.records.get(number)! : { number, state: 'RUNNING', params: {}, attempts: 0, source: 'sampler' };
    const prevState = rec.state;
    rec.state = 'RUNNING';
    rec.attempts++;
    rec.startedAt = now;
    rec.startSteps = rec.steps?.length ?? 0;
    rec.owner = this.session.id;
    const trial = new Trial(this, rec);
    this.live.set(number, trial);
    try {
      if (fixed) {
        const missing = Object.keys(fixed).filter((n) => !(n in rec.params));
        if (missing.length > 0) {
          trial.deferWrites = true;
          trial.relative = this.sampler.sampleRelative(this.samplingContext(number), fixed);
          for (const n of Object.keys(fixed)) this.suggestFor(trial, n, fixed[n]!);
          trial.deferWrites = false;
        }
      } else if (!fromWaiting) {
        const known = Object.fromEntries(Object.entries(this.meta.dists).filter(([, d]) => cardinality(d) > 1));
        if (Object.keys(known).length > 0) trial.relative = this.sampler.sampleRelative(this.samplingContext(number), known);
        // Kept with the trial: a retried attempt gets the same suggestion for what it has not asked yet.
        if (trial.relative.size > 0) rec.relative = Object.fromEntries(trial.relative);
      } else if (rec.relative) trial.relative = new Map(Object.entries(rec.relative));
    } catch (err) {
      trial.deferWrites = false;
      this.live.delete(number);
      rec.attempts--;
      rec.state = prevState;
      rec.owner = undefined;
      if (fromWaiting) insertNumber(this.waiting, number);
      throw err;
    }
    if (!fromWaiting) {
      this.st = { ...this.st, next: number + 1 };
      this.records.set(number, rec);
    }
    const st: StudyState = { ...this.st, rng: this.rng.state(), ...(this.sampler.saveState ? { sampler: this.sampler.saveState() } : {}) };
    this.st = st;
    const copy = structuredClone(rec);
    const meta = this.metaDirty ? structuredClone(this.meta) : undefined;
    this.metaDirty = false;
    await this.track(
      this.storage.transaction((tx) => {
        tx.put(keys.trial(this.meta.key, number), copy);
        tx.put(keys.state(this.meta.key), st);
        if (!fromWaiting) tx.put(keys.live(this.meta.key, number), 1);
        if (meta) tx.put(keys.study(meta.key), meta);
      }),
    );
    return trial;
  }

  /** @internal */
  suggestFor(trial: Trial, name: string, dist0: Distribution): ParamValue {
    if (trial.rec.state !== 'RUNNING') throw new HpoError('HPO_TRIAL_FINISHED', `trial ${trial.number} is ${trial.rec.state}; it cannot suggest "${name}" any more`);
    const problems = distributionIssues(dist0, [name]);
    if (problems.length > 0) {
      throw new HpoError('HPO_SPACE_INVALID', `suggest "${name}": ${problems.map((p) => p.message).join('; ')}`, {
        issues: problems.map((p) => ({ path: p.path.join('.'), message: p.message, hint: p.hint })),
      });
    }
    const dist = normalise(dist0);
    this.checkDistribution(name, dist);
    if (!this.meta.dists[name]) {
      this.meta.dists[name] = dist;
      this.metaDirty = true;
    }
    const fixed = trial.rec.params[name];
    if (name in trial.rec.params) {
      if (!contains(dist, fixed)) this.log('warn', `trial ${trial.number}: the fixed value ${JSON.stringify(fixed)} of "${name}" is outside ${describeDistribution(dist)}; using it anyway`);
      return fixed!;
    }
    let internal: number;
    if (cardinality(dist) <= 1) internal = dist.type === 'categorical' ? 0 : dist.low;
    else if (trial.relative.has(name)) internal = trial.relative.get(name)!;
    else internal = this.sampler.sampleIndependent(this.samplingContext(trial.number), name, dist);
    const value = toExternal(dist, internal);
    trial.rec.params[name] = value;
    this.persistTrial(trial);
    return value;
  }

  /** @internal */
  reportFor(trial: Trial, value: number, step: number): void {
    if (trial.rec.state !== 'RUNNING') throw new HpoError('HPO_TRIAL_FINISHED', `trial ${trial.number} is ${trial.rec.state}; it cannot report any more`);
    if (!Number.isInteger(step) || step < 0) throw new TypeError(`trial.report(value, step): step must be an integer ≥ 0 (got ${step})`);
    if (typeof value !== 'number') throw new TypeError(`trial.report(value, step): value must be a number (got ${typeof value})`);
    const steps = (trial.rec.steps ??= []);
    const values = (trial.rec.values ??= []);
    if (steps.includes(step)) return;
    steps.push(step);
    values.push(value);
    this.persistTrial(trial);
  }

  /** @internal */
  shouldPruneFor(trial: Trial): boolean {
    const rec = trial.rec;
    const view: PrunableTrial = { number: rec.number, steps: rec.steps ?? [], values: rec.values ?? [], rungs: rec.rungs ?? [], bracket: rec.bracket };
    const before = view.rungs.length;
    const prune = this.pruner.prune({ studyName: this.meta.key, direction: this.meta.direction, stats: this.stats }, view);
    if (view.rungs.length !== before) {
      rec.rungs = view.rungs;
      rec.bracket = view.bracket;
      this.persistTrial(trial);
    }
    if (this.stats.stateChanged) {
      this.stats.stateChanged = false;
      this.st = { ...this.st, pruner: { ...this.stats.state } };
      const st = this.st;
      this.queue((tx) => tx.put(keys.state(this.meta.key), st));
    }
    return prune;
  }

  /** Ends a trial: a number completes it; `{ state: 'pruned' | 'failed' }` prunes or fails it. */
  async tell(trialOrNumber: Trial | number, result: TellResult): Promise<FrozenTrial> {
    this.checkWrites();
    const number = typeof trialOrNumber === 'number' ? trialOrNumber : trialOrNumber.number;
    const trial = this.live.get(number);
    const rec = trial?.rec;
    if (!trial || !rec || rec.state !== 'RUNNING') {
      throw new HpoError('HPO_TRIAL_FINISHED', `trial ${number} of study "${this.name}" is ${rec?.state ?? 'unknown'}, not RUNNING; it cannot be told again`);
    }
    let state: TrialState;
    let value: number | undefined;
    let error: string | undefined;
    const r = typeof result === 'number' ? { state: 'complete' as const, value: result } : result;
    if (r.state === 'complete') {
      if (typeof r.value === 'number' && Number.isFinite(r.value)) {
        state = 'COMPLETE';
        value = r.value;
      } else {
        state = 'FAIL';
        error = `the objective returned ${String(r.value)}, not a finite number`;
      }
    } else if (r.state === 'pruned') {
      state = 'PRUNED';
      value = r.value ?? lastValue(rec);
    } else {
      state = 'FAIL';
      error = r.error ?? 'failed';
    }
    this.live.delete(number);
    rec.state = state;
    rec.finishedAt = Date.now();
    rec.owner = undefined;
    delete rec.relative;
    if (value !== undefined) rec.value = value;
    else delete rec.value;
    if (error !== undefined) {
      rec.error = error;
      rec.failures = [...(rec.failures ?? []), { at: rec.finishedAt, reason: error }];
    }
    const hist = this.finishIndex(rec);
    if (state === 'FAIL') this.st = { ...this.st, failed: this.counters.failed };
    const st = this.st;
    const copy = structuredClone(rec);
    await this.track(
      this.storage.transaction((tx) => {
        tx.put(keys.trial(this.meta.key, number), copy);
        tx.remove(keys.live(this.meta.key, number));
        if (hist) tx.put(keys.hist(this.meta.key, hist.index), hist.chunk);
        if (state === 'FAIL') tx.put(keys.state(this.meta.key), st);
      }),
    );
    return copy;
  }

  /** Puts a running trial back in the queue (its session is stopping); it resumes under the same number. */
  async requeue(trialOrNumber: Trial | number): Promise<void> {
    const number = typeof trialOrNumber === 'number' ? trialOrNumber : trialOrNumber.number;
    const rec = this.live.get(number)?.rec;
    if (!rec || rec.state !== 'RUNNING') return;
    this.live.delete(number);
    rec.state = 'WAITING';
    rec.owner = undefined;
    insertNumber(this.waiting, number);
    const copy = structuredClone(rec);
    await this.track(this.storage.transaction((tx) => tx.put(keys.trial(this.meta.key, number), copy)));
  }

  /** Adds a trial with fixed parameters, run before any new one. Returns its number. */
  async enqueue(params: Record<string, ParamValue>, options: { userAttrs?: Record<string, unknown>; skipIfExists?: boolean } = {}): Promise<number> {
    this.checkWrites();
    if (options.skipIfExists) {
      const k = canonical(params);
      const dup = this.trials.find((r) => canonical(r.params) === k && r.state !== 'FAIL');
      if (dup) return dup.number;
    }
    const number = this.st.next;
    const rec: TrialRecord = { number, state: 'WAITING', params: { ...params }, attempts: 0, source: 'enqueued', ...(options.userAttrs ? { user: options.userAttrs } : {}) };
    this.records.set(number, rec);
    insertNumber(this.waiting, number);
    this.st = { ...this.st, next: number + 1 };
    const st = this.st;
    const copy = structuredClone(rec);
    await this.track(
      this.storage.transaction((tx) => {
        tx.put(keys.trial(this.meta.key, number), copy);
        tx.put(keys.state(this.meta.key), st);
        tx.put(keys.live(this.meta.key, number), 1);
      }),
    );
    return number;
  }

  // ------------------------------------------------------------------ optimize

  /**
   * Runs trials until the study has `trials` finished (complete + pruned) trials. Waiting trials
   * (retries, warm starts, enqueued) run first. Objective errors mark the trial FAIL and the study
   * goes on, unless `maxConsecutiveFailures` fail in a row. Throwing {@link TrialPruned} prunes.
   */
  async optimize(
    objective: (trial: Trial, info: { signal: AbortSignal }) => number | Promise<number>,
    options: OptimizeOptions,
  ): Promise<OptimizeSummary> {
    const target = options.trials;
    if (!Number.isInteger(target) || target < 0) throw new TypeError(`optimize: trials must be an integer ≥ 0 (got ${target})`);
    this.budget = target;
    const parallel = Math.max(1, options.parallel ?? 1);
    const maxFailures = options.maxConsecutiveFailures ?? 5;
    const space = options.space ? toSpace(options.space) : this.meta.space;
    const deadline = options.timeout !== undefined ? Date.now() + options.timeout : Infinity;
    const signal = options.signal;
    const inflight = new Map<number, Promise<void>>();
    let consecutive = 0;
    let lastError: unknown;
    let fatal: unknown;
    let stopped: OptimizeSummary['stopped'] = 'target';
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });

    const runOne = async (trial: Trial): Promise<void> => {
      let outcome: { ok: true; value: number } | { ok: false; err: unknown };
      try {
        outcome = { ok: true, value: await objective(trial, { signal: controller.signal }) };
      } catch (err) {
        outcome = { ok: false, err };
      }
      try {
        if (trial.rec.state !== 'RUNNING') {
          // The objective told the study itself (e.g. pruned while its child task stopped).
        } else if (outcome.ok) {
          await this.tell(trial, outcome.value);
        } else if (isTrialPruned(outcome.err)) {
          await this.tell(trial, { state: 'pruned' });
        } else if (controller.signal.aborted) {
          await this.requeue(trial);
        } else if ((outcome.err as { stopStudy?: boolean })?.stopStudy) {
          // Not this trial's fault (e.g. the objective cannot start at all): keep it for later, stop.
          await this.requeue(trial);
          fatal ??= outcome.err;
        } else {
          await this.tell(trial, { state: 'failed', error: errorText(outcome.err) });
          lastError = outcome.err;
        }
        const rec = trial.rec;
        if (rec.state === 'FAIL') consecutive++;
        else if (rec.state === 'COMPLETE' || rec.state === 'PRUNED') consecutive = 0;
        if (rec.state !== 'WAITING') options.onTrialEnd?.(structuredClone(rec), this);
        if (maxFailures > 0 && consecutive >= maxFailures && !fatal) {
          fatal = new HpoError(
            'HPO_TOO_MANY_FAILURES',
            `study "${this.name}": ${consecutive} trials failed in a row; the last one (trial ${trial.number}) with: ${errorText(lastError)}. Fix the objective, then run again: the study continues where it stopped.`,
            { cause: lastError },
          );
        }
      } catch (err) {
        fatal ??= err;
      }
    };

    try {
      for (;;) {
        while (!fatal && !controller.signal.aborted && inflight.size < parallel && this.finished + inflight.size < target) {
          if (Date.now() >= deadline) {
            stopped = 'timeout';
            break;
          }
          if (space && this.exhausted(space)) {
            stopped = 'grid-exhausted';
            break;
          }
          let trial: Trial;
          try {
            trial = await this.ask(space);
          } catch (err) {
            if ((err as { code?: string }).code === 'HPO_GRID_EXHAUSTED') {
              stopped = 'grid-exhausted';
              break;
            }
            fatal = err;
            break;
          }
          const p = runOne(trial).finally(() => inflight.delete(trial.number));
          inflight.set(trial.number, p);
        }
        if (inflight.size === 0) break;
        await Promise.race(inflight.values());
        if (stopped !== 'target' && !fatal) {
          // Timeout or exhausted grid: let the trials in flight finish.
          await Promise.all(inflight.values());
          break;
        }
      }
      await Promise.all(inflight.values());
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (fatal) throw fatal;
    if (controller.signal.aborted) stopped = 'aborted';
    const c = this.counts;
    return { stopped, complete: c.complete, pruned: c.pruned, failed: c.failed, finished: c.finished };
  }

  /** Stops the heartbeat, waits for pending writes and releases the session. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await Promise.allSettled([...this.writes]);
    this.closed = true;
    await this.storage.transaction((tx) => tx.remove(keys.session(this.meta.key, this.session.id))).catch(() => {});
  }
}

function lastValue(rec: TrialRecord): number | undefined {
  if (!rec.steps || rec.steps.length === 0) return undefined;
  let i = 0;
  for (let k = 1; k < rec.steps.length; k++) if (rec.steps[k]! >= rec.steps[i]!) i = k;
  return rec.values![i];
}

function insertNumber(arr: number[], n: number): void {
  let i = arr.length;
  while (i > 0 && arr[i - 1]! > n) i--;
  if (arr[i - 1] !== n) arr.splice(i, 0, n);
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err) return String((err as Error).message);
  return String(err);
}

export { TrialPruned };
