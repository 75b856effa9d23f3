/**
 * The broker seam on restart: the trader compares its ledger with the broker's own account and
 * reports any difference (here: the simulated broker's cash changed behind the trader's back),
 * keeping its ledger. Also: raising `until` on a finished trader continues it after its last bar.
 * And the exported HTML report opens in headless Chromium and draws its charts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, expect, test } from 'vitest';
import { openPluginDb, RunStore } from '@runner/core';
import { runCli } from '@runner/test-helpers/cli';
import { paperTask, project } from './helpers.js';

const projects: string[] = [];
afterAll(() => {
  for (const p of projects) rmSync(p, { recursive: true, force: true });
});

test('a broker account that differs from the ledger is reported on restart; raising until continues the trader', async () => {
  const dir = await project('paper-rec', '{ type: replay, from: download, speed: max }', undefined, '      until: { bars: 400 }\n');
  projects.push(dir);
  const first = await runCli(['start', 'job.yaml', '--plain'], { cwd: dir });
  expect(first.code, first.stderr).toBe(0);
  const t1 = await paperTask(dir);
  expect(t1.result.bars).toBe(400);
  expect(t1.result.reconcile.differences).toEqual([]);

  const store = RunStore.open(join(dir, 'runs', 'paper-rec'));
  try {
    const db = openPluginDb(store, 'paper', 'broker');
    const acct = [...db.range<{ cash: number }>()].find((e) => Array.isArray(e.key) && e.key[0] === 'acct')!;
    await db.put(acct.key, { ...acct.value, cash: acct.value.cash + 5 });
  } finally {
    await store.close();
  }

  const again = await runCli(['start', 'job.yaml', '--plain', '--set', 'stages.paper.options.until.bars=800'], { cwd: dir });
  expect(again.code, again.stdout + again.stderr).toBe(0);
  expect(again.stdout + again.stderr).toMatch(/reconciliation with the simulated broker found 1 difference\(s\): cash: ledger [\d.]+, broker [\d.]+/);
  const t2 = await paperTask(dir);
  expect(t2.result.bars).toBe(800);
  expect(t2.result.reconcile.differences).toHaveLength(1);
  expect(t2.result.reconcile.differences[0].what).toBe('cash');
  expect(t2.result.reconcile.differences[0].broker - t2.result.reconcile.differences[0].ledger).toBeCloseTo(5, 6);

  // The report of the continued trader covers all 800 bars and draws in a real browser.
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('file://' + join(dir, 'runs', 'paper-rec', t2.result.files.report));
    await page.waitForFunction(() => (globalThis as unknown as { runnerCharts?: unknown[] }).runnerCharts?.length === 3);
    expect(errors).toEqual([]);
    expect(await page.locator('canvas').count()).toBeGreaterThanOrEqual(3);
    expect(await page.textContent('body')).toContain('800 bars');
  } finally {
    await browser.close();
  }
}, 180_000);
