import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { parseDuration } from '../cli/format.js';
import { buildReport } from '../report/build.js';
import { renderReport } from '../report/render.js';
import { sourceFromStore } from '../report/source.js';
import { TASK_STATES, type TaskState } from '../store/types.js';
import { dashboardHtml } from './dashboard.js';
import { cancelTask, runCheckpointStats, deleteCheckpoints, listTasks, OpError, pruneRunCheckpoints, resumeTask, runSummary, taskDetail } from './ops.js';
import { RunRegistry } from './runs.js';
import { allowedHosts, cookieToken, headerToken, isLoopback, sameToken, TOKEN_COOKIE } from './security.js';
import { streamEvents } from './sse.js';

export interface ServeOptions {
  runsDir: string;
  host: string;
  port: number;
  /** Checked on every mutating request; on every request when `requireTokenForReads`. */
  token: string;
  /** True when the token was given (or the address is not loopback): reads need it too. */
  requireTokenForReads: boolean;
  /** Largest request body in bytes. @default 16384 */
  bodyLimit?: number;
  /** SSE poll interval. @default 500 */
  pollMs?: number;
}

const RUN = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$', description: 'Run name: the directory under the runs directory' } as const;
const ERROR = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' }, state: { type: 'string' } } } as const;
const TASK_BODY = {
  type: 'object',
  required: ['task'],
  additionalProperties: false,
  properties: { task: { type: 'string', minLength: 1, maxLength: 1024, description: 'Task id, e.g. work/symbol=AAPL/cycle=1' } },
} as const;
const ANY_OBJECT = { type: 'object', additionalProperties: true } as const;
const NULLABLE_NUM = { type: 'number', nullable: true } as const;
const STATE = { type: 'string', enum: [...TASK_STATES] } as const;
const COUNTS = { type: 'object', properties: Object.fromEntries([['total', { type: 'integer' }], ...TASK_STATES.map((st) => [st, { type: 'integer' }])]) } as const;
const TASK = {
  type: 'object',
  description: 'A task, as `runner tasks --json` prints it',
  properties: {
    id: { type: 'string' },
    stage: { type: 'string' },
    plugin: { type: 'string' },
    cell: ANY_OBJECT,
    cycle: { type: 'integer' },
    state: STATE,
    attempts: { type: 'integer' },
    failures: { type: 'integer' },
    progress: { type: 'object', properties: { step: NULLABLE_NUM, total: NULLABLE_NUM, fraction: { type: 'number' }, message: { type: 'string', nullable: true }, metrics: { ...ANY_OBJECT, nullable: true } } },
    progressText: { type: 'string', nullable: true, description: 'e.g. `epoch 21/40, batch 12/38`' },
    lastCheckpoint: { ...ANY_OBJECT, nullable: true },
    result: { nullable: true, description: "The plugin's result (completed tasks)" },
    error: { ...ANY_OBJECT, nullable: true },
    notes: { type: 'array', items: { type: 'string' } },
    parent: { type: 'string', nullable: true },
    runMs: { type: 'integer' },
    startedAt: { type: 'string', nullable: true },
    endedAt: { type: 'string', nullable: true },
  },
  additionalProperties: true,
} as const;
const CHECKPOINT = {
  type: 'object',
  properties: { seq: { type: 'integer' }, type: { type: 'string' }, step: { type: 'number' }, total: NULLABLE_NUM, time: { type: 'string' }, size: { type: 'integer' }, file: { type: 'string', nullable: true }, checksum: { type: 'string' }, metrics: { ...ANY_OBJECT, nullable: true } },
} as const;
const RUN_SUMMARY = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    title: { type: 'string' },
    spec: { type: 'string', nullable: true },
    createdAt: { type: 'string', nullable: true },
    tasks: COUNTS,
    children: { type: 'integer' },
    stages: { type: 'object', additionalProperties: COUNTS },
    runners: { type: 'array', items: ANY_OBJECT },
    interrupted: { type: 'boolean', description: 'Tasks were left running by a runner that is gone' },
  },
} as const;

/** Builds the server (not listening): the JSON API, the OpenAPI description and the dashboard. */
export async function createServer(opts: ServeOptions): Promise<{ app: FastifyInstance; runs: RunRegistry }> {
  const runs = new RunRegistry(opts.runsDir);
  const app = Fastify({
    bodyLimit: opts.bodyLimit ?? 16 * 1024,
    logger: false,
  });
  // Unknown keys are errors, not silently dropped. Query strings are text, so their numbers and
  // lists are coerced; bodies are JSON and must have the right types as sent.
  const strict = new Ajv({ removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: true, strict: false });
  const query = new Ajv({ removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : query).compile(schema));
  // Response schemas document the API (OpenAPI); the free-form task and report objects serialise
  // several times faster with JSON.stringify than through a schema-compiled serialiser.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: {
      info: { title: 'runner serve', version: '1', description: 'Runs, tasks, checkpoints and events of the run stores in one runs directory.' },
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer' } } },
    },
  });

  const streams = new Set<() => void>();
  // Open event streams would keep close() waiting forever.
  app.addHook('preClose', async () => {
    for (const stop of [...streams]) stop();
  });
  const loopback = isLoopback(opts.host);
  let hosts: Set<string> | undefined;
  // The port is known once listening (port 0 picks one).
  const hostsNow = () => {
    const addr = app.server.address();
    if (!hosts && addr && typeof addr === 'object') hosts = allowedHosts(opts.host, addr.port);
    return hosts;
  };

  app.addHook('onRequest', async (req, reply) => {
    if (loopback && !hostsNow()?.has(String(req.headers.host ?? ''))) return reply.code(403).send({ error: 'forbidden', message: `host ${req.headers.host ?? '(none)'} is not this server` });
    const mutating = req.method !== 'GET' && req.method !== 'HEAD';
    if (mutating) {
      const given = headerToken(req.headers);
      if (!given) return reply.code(401).send({ error: 'unauthorized', message: 'this request changes state: send the token as `Authorization: Bearer <token>`' });
      if (!sameToken(given, opts.token)) return reply.code(403).send({ error: 'forbidden', message: 'wrong token' });
      return;
    }
    if (!opts.requireTokenForReads) return;
    const q = (req.query as { token?: string } | undefined)?.token;
    const given = headerToken(req.headers) ?? cookieToken(req.headers.cookie) ?? q;
    if (!given) return reply.code(401).send({ error: 'unauthorized', message: 'send the token (Authorization: Bearer <token>, or ?token= once in the browser)' });
    if (!sameToken(given, opts.token)) return reply.code(403).send({ error: 'forbidden', message: 'wrong token' });
    if (q) reply.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(q)}; HttpOnly; SameSite=Strict; Path=/`);
  });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown; code?: string }, _req, reply) => {
    if (err instanceof OpError) return reply.code(err.status).send({ error: err.status === 404 ? 'not found' : 'conflict', message: err.message, ...err.details });
    if (err.validation) return reply.code(400).send({ error: 'bad request', message: err.message });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ error: status === 413 ? 'payload too large' : status === 500 ? 'internal error' : 'bad request', message: err.message });
  });

  const storeOf = (name: string) => {
    const s = runs.store(name);
    if (!s) throw new OpError(404, `no run ${name} in ${runs.root}`);
    return s;
  };
  const dirOf = (name: string) => runs.dirOf(name)!;
  const taskIdOf = (req: FastifyRequest) => (req.params as { '*': string })['*'];

  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(dashboardHtml(opts.token)));

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/api/runs', {
    schema: { summary: 'The runs in the runs directory with their counts and live runners', response: { 200: { type: 'object', properties: { runs: { type: 'array', items: RUN_SUMMARY } } } } },
  }, async () => ({ runs: runs.names().flatMap((n) => { const s = runs.store(n); return s ? [runSummary(n, s)] : []; }) }));

  app.get('/api/runs/:run', {
    schema: { summary: 'One run: counts per state and stage, live runners', params: { type: 'object', properties: { run: RUN }, required: ['run'] }, response: { 200: RUN_SUMMARY, 404: ERROR } },
  }, async (req) => runSummary((req.params as { run: string }).run, storeOf((req.params as { run: string }).run)));

  app.get('/api/runs/:run/tasks', {
    schema: {
      summary: "A run's tasks, filterable by state and stage",
      params: { type: 'object', properties: { run: RUN }, required: ['run'] },
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          state: { type: 'array', items: { type: 'string', enum: [...TASK_STATES] } },
          stage: { type: 'array', items: { type: 'string', maxLength: 200 } },
          children: { type: 'boolean', default: false },
          limit: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
          offset: { type: 'integer', minimum: 0, default: 0 },
          token: { type: 'string' },
        },
      },
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, offset: { type: 'integer' }, tasks: { type: 'array', items: TASK } } }, 404: ERROR },
    },
  }, async (req) => {
    const q = req.query as { state?: TaskState[]; stage?: string[]; children?: boolean; limit?: number; offset?: number };
    return listTasks(storeOf((req.params as { run: string }).run), q);
  });

  app.get('/api/runs/:run/tasks/*', {
    schema: {
      summary: 'One task with its checkpoints, log tail and result',
      params: { type: 'object', properties: { run: RUN, '*': { type: 'string', minLength: 1, maxLength: 1024 } }, required: ['run'] },
      querystring: { type: 'object', additionalProperties: false, properties: { log: { type: 'integer', minimum: 0, maximum: 1000, default: 50 }, token: { type: 'string' } } },
      response: {
        200: {
          type: 'object',
          properties: {
            task: TASK,
            checkpoints: { type: 'array', items: CHECKPOINT, description: 'Newest first: a resume starts from the first' },
            log: { type: 'array', items: { type: 'object', properties: { time: { type: 'string' }, level: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
        404: ERROR,
      },
    },
  }, async (req) => {
    const run = (req.params as { run: string }).run;
    return taskDetail(storeOf(run), dirOf(run), taskIdOf(req), (req.query as { log: number }).log);
  });

  const taskOp = (summary: string, fn: (run: string, id: string) => Promise<unknown>, ok = 200) => ({
    schema: { summary, security: [{ token: [] }], params: { type: 'object', properties: { run: RUN }, required: ['run'] }, body: TASK_BODY, response: { [ok]: ANY_OBJECT, 404: ERROR, 409: ERROR } },
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      const res = await fn((req.params as { run: string }).run, (req.body as { task: string }).task);
      return reply.code(ok).send(res);
    },
  });

  app.post('/api/runs/:run/cancel', taskOp('Cancel a task: a pending one at once, a running one through its runner (202 while it stops). 409 when it is no longer pending or running.', async (run, id) => {
    const res = await cancelTask(storeOf(run), id);
    return res;
  }));
  app.post('/api/runs/:run/resume', taskOp('Resume a cancelled or failed task (atomically); names the checkpoint it resumes from. 409 for a running, pending or completed task.', (run, id) => resumeTask(storeOf(run), id)));

  app.get('/api/runs/:run/checkpoints', {
    schema: { summary: 'Checkpoint statistics of a run, orphaned files included', params: { type: 'object', properties: { run: RUN }, required: ['run'] }, response: { 200: ANY_OBJECT, 404: ERROR } },
  }, async (req) => {
    const run = (req.params as { run: string }).run;
    return runCheckpointStats(storeOf(run), dirOf(run));
  });

  app.delete('/api/runs/:run/checkpoints/*', {
    schema: { summary: "Delete a task's checkpoints (it will start fresh). 409 while it runs.", security: [{ token: [] }], params: { type: 'object', properties: { run: RUN, '*': { type: 'string', minLength: 1, maxLength: 1024 } }, required: ['run'] }, response: { 200: ANY_OBJECT, 404: ERROR, 409: ERROR } },
  }, async (req) => {
    const run = (req.params as { run: string }).run;
    return deleteCheckpoints(storeOf(run), dirOf(run), taskIdOf(req));
  });

  app.post('/api/runs/:run/checkpoints/prune', {
    schema: {
      summary: 'Prune checkpoints older than a duration or beyond the newest N per task, and orphaned files; never the newest of an unfinished task',
      security: [{ token: [] }],
      params: { type: 'object', properties: { run: RUN }, required: ['run'] },
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          olderThan: { type: 'string', pattern: '^\\d+(\\.\\d+)?\\s*(ms|s|m|h|d|w)?$', description: 'e.g. 30d, 12h' },
          keep: { type: 'integer', minimum: 0, maximum: 100000 },
          dryRun: { type: 'boolean', default: false },
        },
      },
      response: { 200: ANY_OBJECT, 404: ERROR },
    },
  }, async (req) => {
    const run = (req.params as { run: string }).run;
    const b = (req.body ?? {}) as { olderThan?: string; keep?: number; dryRun?: boolean };
    return pruneRunCheckpoints(storeOf(run), dirOf(run), { olderThanMs: b.olderThan ? parseDuration(b.olderThan) : undefined, keep: b.keep, dryRun: b.dryRun });
  });

  app.get('/api/runs/:run/events', {
    schema: {
      summary: "Server-sent events of a run: `store` (each state change from the store's event feed, id = its sequence number) and `progress` (running tasks, once per change). Send Last-Event-ID to continue.",
      params: { type: 'object', properties: { run: RUN }, required: ['run'] },
      querystring: { type: 'object', additionalProperties: false, properties: { after: { type: 'integer', minimum: 0 }, token: { type: 'string' } } },
    },
  }, async (req, reply) => {
    const run = (req.params as { run: string }).run;
    storeOf(run);
    const last = Number(req.headers['last-event-id'] ?? (req.query as { after?: number }).after ?? NaN);
    streamEvents(req, reply, () => runs.store(run), Number.isFinite(last) ? last : undefined, opts.pollMs ?? 500, streams);
  });

  app.get('/api/runs/:run/report', {
    schema: { summary: 'The report as data: summary per cell, curves, plugin sections', params: { type: 'object', properties: { run: RUN }, required: ['run'] }, response: { 200: ANY_OBJECT, 404: ERROR } },
  }, async (req) => {
    const run = (req.params as { run: string }).run;
    return buildReport(await sourceFromStore(dirOf(run) ?? '', storeOf(run)));
  });

  app.get('/api/runs/:run/report.html', {
    schema: { summary: 'The report as one self-contained HTML page (what `runner report` writes)', params: { type: 'object', properties: { run: RUN }, required: ['run'] } },
  }, async (req, reply) => {
    const run = (req.params as { run: string }).run;
    const store = storeOf(run);
    const html = renderReport(await buildReport(await sourceFromStore(dirOf(run), store)));
    return reply.type('text/html; charset=utf-8').send(html);
  });

  app.addHook('onClose', async () => runs.close());
  return { app, runs };
}
