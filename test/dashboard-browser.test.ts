/**
 * The dashboard in headless Chromium (Debian's, through playwright-core) over a run a live runner
 * is writing: a running task's progress advances, cancel then resume work from the page, the
 * detail shows checkpoints, the report's charts load. And the HTML report opened from disk
 * (file://): charts drawn, no request leaves the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CHROMIUM, launchBrowser, screenshotPath } from '@runner/test-helpers/browser';
import { REPO, runCli, spawnCli, tempProject, waitFor, type SpawnedRunner } from '@runner/test-helpers/cli';
import { startServer } from '@runner/test-helpers/serve';

const TICKER = join(REPO, 'test/fixtures/ticker.mjs');
const HPO_EXAMPLE_PLUGIN = join(REPO, 'packages/plugins/hpo/examples/synthetic-trainer.mjs');

let browser: BrowserContext;
let dir: string;

beforeAll(async () => {
  browser = await launchBrowser();
  dir = tempProject({
    'live.yaml': `name: live
plugins: [${TICKER}]
matrix: { n: [1, 2, 3] }
pool: { threads: 2 }
stages:
  - { id: slow, plugin: ticker, options: { steps: 100000, stepMs: 25, checkpointEvery: 10 } }
`,
    'hpo.yaml': readFileSync(join(REPO, 'configs/hpo-example.yaml'), 'utf8')
      .replace('../packages/plugins/hpo/examples/synthetic-trainer.mjs', HPO_EXAMPLE_PLUGIN)
      .replace(/matrix: .*/, 'matrix: { symbol: [AAPL], horizon: [1, 5] }')
      .replace('trials: 60', 'trials: 24'),
  });
});

afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!existsSync(CHROMIUM))('in Chromium', () => {
  let live: SpawnedRunner;
  let server: Awaited<ReturnType<typeof startServer>>;

  afterAll(async () => {
    live?.child.kill('SIGKILL');
    await server?.close();
  });

  test('the dashboard: live progress, cancel, resume, detail, report', async () => {
    live = spawnCli(['start', 'live.yaml', '--plain'], { cwd: dir });
    await waitFor(() => live.output().includes('start slow/n=2'), 30_000, 'the run to start');
    server = await startServer(join(dir, 'runs'));
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/#run=live`);
    const row = (id: string) => page.locator(`#tasks tr[data-id="${id}"]`);
    const id = 'slow/n=1/cycle=1';
    await row(id).and(page.locator('[data-state="running"]')).waitFor({ timeout: 30_000 });
    const fraction = async () => Number(await row(id).locator('.progress-text').getAttribute('data-fraction'));
    // Epoch-like units as people count them: `step 37/100000`.
    await expect.poll(() => row(id).locator('.progress-text').textContent(), { timeout: 30_000 }).toMatch(/^step \d+\/100000$/);
    const f0 = await fraction();
    // Progress arrives over server-sent events; the row's bar moves without a reload.
    await page.waitForFunction(
      ([sel, f]) => Number((globalThis as any).document.querySelector(sel)?.getAttribute('data-fraction')) > f,
      [`#tasks tr[data-id="${id}"] .progress-text`, f0 + 20 / 100000] as const,
      { timeout: 30_000 },
    );
    await expect.poll(() => page.locator('#counts [data-count="running"]').textContent(), { timeout: 30_000 }).toBe('2 running');

    await row(id).locator('button.cancel').click();
    await row(id).and(page.locator('[data-state="cancelled"]')).waitFor({ timeout: 30_000 });
    await row(id).locator('button.resume').click();
    await expect.poll(() => page.locator('#live').textContent(), { timeout: 30_000 }).toMatch(/^resumed slow\/n=1\/cycle=1 from checkpoint #\d+ at step \d+$/);
    await row(id).and(page.locator('[data-state="pending"], [data-state="running"]')).waitFor({ timeout: 30_000 });

    await row('slow/n=2/cycle=1').locator('td').first().click();
    await page.locator('#detail table.checkpoints tr').nth(1).waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('#detail pre.log').textContent(), { timeout: 30_000 }).toMatch(/info step \d+ of 100000/);

    const report = page.frameLocator('#report');
    await report.locator('h2', { hasText: 'Summary per cell' }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: screenshotPath('dashboard.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  test('the HTML report from disk: charts drawn, nothing fetched', async () => {
    const start = await runCli(['start', 'hpo.yaml', '--plain'], { cwd: dir });
    expect(start.code, start.stderr).toBe(0);
    const made = await runCli(['report', 'hpo.yaml', '--out', 'reports'], { cwd: dir });
    expect(made.code, made.stderr).toBe(0);
    const file = join(dir, 'reports', 'hpo-example.html');
    expect(made.stdout).toContain(`wrote ${file}`);
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${file}`);
    // Per study: history, intermediate values; per train stage: the curves of result.history (none here).
    await page.waitForFunction(() => (globalThis as any).runnerCharts?.length >= 4, undefined, { timeout: 30_000 });
    expect(await page.locator('h3', { hasText: /^Study hpo\/symbol=AAPL\/horizon=1\/cycle=1$/ }).count()).toBe(1);
    expect(await page.locator('h4', { hasText: /^Parameter importances \(PED-ANOVA/ }).count()).toBe(2);
    expect(await page.locator('.u-title', { hasText: 'Optimisation history' }).count()).toBe(2);
    expect(await page.locator('table.summary tbody tr').count()).toBe(2);
    await page.screenshot({ path: screenshotPath('report.png'), fullPage: true });
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    expect(errors).toEqual([]);
  });
});
