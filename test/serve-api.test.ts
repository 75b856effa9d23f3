/**
 * `runner serve`'s JSON API against real stores written by real runs: one finished, one that a
 * live runner (a child process) is writing while the API reads, cancels and resumes its tasks.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO, runCli, spawnCli, tempProject, waitFor, type SpawnedRunner } from '@runner/test-helpers/cli';
import { startServer } from '@runner/test-helpers/serve';

const TICKER = join(REPO, 'test/fixtures/ticker.mjs');

let dir: string;
let server: Awaited<ReturnType<typeof startServer>>;
let live: SpawnedRunner;

beforeAll(async () => {
  dir = tempProject({
    'done.yaml': `name: done
plugins: [${TICKER}]
matrix: { n: [1, 2, 10] }
pool: { threads: 2 }
stages:
  - { id: fit, plugin: ticker, options: { steps: 20, stepMs: 2 } }
  - { id: after, plugin: ticker, needs: [fit], options: { steps: 5, stepMs: 1 } }
`,
    'live.yaml': `name: live
plugins: [${TICKER}]
matrix: { n: [1, 2, 3, 4] }
pool: { threads: 2 }
stages:
  - { id: slow, plugin: ticker, options: { steps: 100000, stepMs: 20, checkpointEvery: 10 } }
`,
  });
  const r = await runCli(['start', 'done.yaml'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  live = spawnCli(['start', 'live.yaml', '--plain'], { cwd: dir });
  await waitFor(() => live.output().includes('start slow/n=2'), 30_000, 'the live run to start two tasks');
  server = await startServer(join(dir, 'runs'));
});

afterAll(async () => {
  live?.child.kill('SIGKILL');
  await server?.close();
});

describe('runs and tasks', () => {
  test('lists both runs with counts and the live runner', async () => {
    const r = await server.call('GET', '/api/runs');
    expect(r.status).toBe(200);
    const byName = Object.fromEntries(r.json.runs.map((x: any) => [x.name, x]));
    expect(byName.done.tasks).toMatchObject({ total: 6, completed: 6 });
    expect(byName.done.runners).toEqual([]);
    expect(byName.live.tasks.total).toBe(4);
    expect(byName.live.runners).toHaveLength(1);
    expect(byName.live.runners[0].pid).toBe(live.child.pid);
  });

  test('filters by state and stage; numbers sort as numbers', async () => {
    const fit = await server.call('GET', '/api/runs/done/tasks?stage=fit');
    expect(fit.json.tasks.map((t: any) => t.id)).toEqual(['fit/n=1/cycle=1', 'fit/n=2/cycle=1', 'fit/n=10/cycle=1']);
    const none = await server.call('GET', '/api/runs/done/tasks?state=failed&state=cancelled');
    expect(none.json).toMatchObject({ total: 0, tasks: [] });
    const bad = await server.call('GET', '/api/runs/done/tasks?state=exploded');
    expect(bad.status).toBe(400);
    const unknown = await server.call('GET', '/api/runs/nope/tasks');
    expect(unknown.status).toBe(404);
  });

  test('one task: checkpoints, log tail and result', async () => {
    const r = await server.call('GET', '/api/runs/done/tasks/fit/n=10/cycle=1');
    expect(r.status).toBe(200);
    expect(r.json.task).toMatchObject({ id: 'fit/n=10/cycle=1', state: 'completed', result: { metrics: { val_loss: 0.05 } } });
    expect(r.json.checkpoints.length).toBeGreaterThan(0);
    expect(r.json.checkpoints[0]).toMatchObject({ step: 20, total: 20 });
    expect(r.json.log.map((l: any) => l.message)).toEqual(['step 10 of 20', 'step 20 of 20']);
    expect((await server.call('GET', '/api/runs/done/tasks/fit/n=99/cycle=1')).status).toBe(404);
  });

  test('reads progress while the runner writes', async () => {
    const step = async () => {
      const r = await server.call('GET', '/api/runs/live/tasks?state=running');
      return r.json.tasks.find((t: any) => t.id === 'slow/n=1/cycle=1')?.progress.step ?? 0;
    };
    const first = await step();
    await waitFor(async () => (await step()) > first + 5, 30_000, 'progress to advance');
  });

  test('the report as data and as HTML', async () => {
    const m = await server.call('GET', '/api/runs/done/report');
    expect(m.status).toBe(200);
    expect(m.json.cells).toHaveLength(3);
    expect(m.json.stages[0].curves.map((c: any) => c.title)).toEqual(['loss']);
    const h = await server.call('GET', '/api/runs/done/report.html');
    expect(h.headers.get('content-type')).toContain('text/html');
    expect(h.text).toContain('Summary per cell');
  });

  test('OpenAPI describes the endpoints from their schemas', async () => {
    const r = await server.call('GET', '/openapi.json');
    expect(r.json.openapi).toMatch(/^3\./);
    expect(Object.keys(r.json.paths)).toEqual(expect.arrayContaining(['/api/runs', '/api/runs/{run}/tasks', '/api/runs/{run}/cancel', '/api/runs/{run}/resume', '/api/runs/{run}/events', '/api/runs/{run}/checkpoints/prune']));
    expect(r.json.paths['/api/runs/{run}/resume'].post.requestBody.content['application/json'].schema.required).toEqual(['task']);
  });
});

describe('cancel and resume', () => {
  test('cancel a running task, then resume it from the checkpoint it saved', async () => {
    const id = 'slow/n=2/cycle=1';
    await waitFor(async () => ((await server.call('GET', `/api/runs/live/tasks/${id}`)).json.checkpoints.length > 0), 30_000, 'a checkpoint');
    const c = await server.call('POST', '/api/runs/live/cancel', { task: id });
    expect(c.status).toBe(200);
    expect(c.json).toMatchObject({ id, requested: true });
    await waitFor(async () => (await server.call('GET', `/api/runs/live/tasks/${id}`)).json.task.state === 'cancelled', 30_000, 'the runner to stop it');
    const d = await server.call('GET', `/api/runs/live/tasks/${id}`);
    expect(d.json.checkpoints[0].type).toBe('cancellation');
    expect((await server.call('POST', '/api/runs/live/cancel', { task: id })).status).toBe(409);
    const r = await server.call('POST', '/api/runs/live/resume', { task: id });
    expect(r.status).toBe(200);
    expect(r.json.from).toMatchObject({ seq: d.json.checkpoints[0].seq, type: 'cancellation', step: d.json.checkpoints[0].step });
    const again = await server.call('POST', '/api/runs/live/resume', { task: id });
    expect(again.status).toBe(409);
    expect(again.json.message).toContain('only cancelled or failed');
    // Free a slot: the live runner takes the resumed task (it has a checkpoint) before the fresh n=4.
    expect((await server.call('POST', '/api/runs/live/cancel', { task: 'slow/n=3/cycle=1' })).status).toBe(200);
    await waitFor(async () => (await server.call('GET', `/api/runs/live/tasks/${id}`)).json.task.state === 'running', 30_000, 'the runner to restart it');
    await waitFor(async () => (await server.call('GET', `/api/runs/live/tasks/${id}`)).json.log.some((l: any) => l.message === `resumed at step ${d.json.checkpoints[0].step}`), 30_000, 'the resumed log line');
  });

  test('404 for an unknown task, 409 for a completed or running one', async () => {
    expect((await server.call('POST', '/api/runs/live/resume', { task: 'slow/n=9/cycle=1' })).status).toBe(404);
    expect((await server.call('POST', '/api/runs/done/resume', { task: 'fit/n=1/cycle=1' })).status).toBe(409);
    expect((await server.call('POST', '/api/runs/done/cancel', { task: 'fit/n=1/cycle=1' })).status).toBe(409);
    const running = await server.call('POST', '/api/runs/live/resume', { task: 'slow/n=1/cycle=1' });
    expect(running.status).toBe(409);
    expect(running.json.state).toBe('running');
  });
});

describe('checkpoints', () => {
  test('stats, prune (dry run, then for real) and delete', async () => {
    const s = await server.call('GET', '/api/runs/done/checkpoints');
    expect(s.status).toBe(200);
    expect(s.json.tasks).toBe(6);
    expect(s.json.total).toBeGreaterThanOrEqual(6);
    const dry = await server.call('POST', '/api/runs/done/checkpoints/prune', { keep: 0, dryRun: true });
    expect(dry.json).toMatchObject({ checkpoints: s.json.total, dryRun: true });
    expect((await server.call('GET', '/api/runs/done/checkpoints')).json.total).toBe(s.json.total);
    const del = await server.call('DELETE', '/api/runs/done/checkpoints/fit/n=1/cycle=1');
    expect(del.status).toBe(200);
    expect(del.json.deleted).toBeGreaterThan(0);
    expect((await server.call('GET', '/api/runs/done/tasks/fit/n=1/cycle=1')).json.checkpoints).toEqual([]);
    expect((await server.call('DELETE', '/api/runs/live/checkpoints/slow/n=1/cycle=1')).status).toBe(409);
    const pruned = await server.call('POST', '/api/runs/done/checkpoints/prune', { keep: 0 });
    expect(pruned.json.checkpoints).toBe(s.json.total - del.json.deleted);
    expect((await server.call('GET', '/api/runs/done/checkpoints')).json.total).toBe(0);
  });
});

describe('events', () => {
  test('a server-sent event stream of store changes and progress', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${server.url}/api/runs/live/events`, { signal: ctrl.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const seen = async (re: RegExp) => {
      while (!re.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += new TextDecoder().decode(value);
      }
    };
    await seen(/event: hello/);
    await seen(/event: progress\ndata: \[\{"id":"slow\//);
    const c = await server.call('POST', '/api/runs/live/cancel', { task: 'slow/n=4/cycle=1' });
    expect((await server.call('GET', '/api/runs/live/tasks/slow/n=4/cycle=1')).json.task.state).toBe('cancelled');
    expect(c.status).toBe(200);
    await seen(/event: store\ndata: \{[^\n]*"type":"task:cancel[^\n]*"task":"slow\/n=4\/cycle=1"/);
    ctrl.abort();
  });

  test('Last-Event-ID replays the store events after it', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${server.url}/api/runs/done/events`, { signal: ctrl.signal, headers: { 'last-event-id': '0' } });
    const reader = res.body!.getReader();
    let text = '';
    while (!/"type":"task:finish"|"state":"completed"/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ctrl.abort();
    expect(text).toMatch(/^event: hello\ndata: \{"after":0\}/);
    expect(text).toMatch(/\nid: 1\nevent: store\n/);
  });
});
