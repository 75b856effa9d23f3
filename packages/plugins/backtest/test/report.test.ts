/**
 * The HTML report opens from disk in headless Chromium (Debian's chromium, driven by
 * playwright-core) with no console errors and no network, and draws its three charts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { runPlugin } from '@runner/core/testing';
import plugin, { type BacktestResult } from '../src/index.js';
import { gridSeries, seriesFile } from './helpers.js';

describe('report.html', () => {
  it('opens in headless Chromium without console errors and draws equity, drawdown and trades on price', async () => {
    const file = await seriesFile(gridSeries(50_000, 3));
    const r = await runPlugin<object, BacktestResult>(plugin as never, { data: { file }, strategy: { type: 'sma-cross', fast: 20, slow: 100 }, commission: { perUnit: 0.1 }, sizing: { units: 10 } }, { task: { id: 'backtest/symbol=TEST/cycle=1', cell: { symbol: 'TEST' } } });
    expect(r.outcome).toBe('completed');
    const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'bt-chrome-')), {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1200, height: 1600 },
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('request', (q) => {
        if (!q.url().startsWith('file:') && !q.url().startsWith('data:')) requests.push(q.url());
      });
      await page.goto(pathToFileURL(r.result!.files['report.html']!).href);
      await page.waitForFunction(() => (globalThis as unknown as { runnerCharts: unknown[] }).runnerCharts?.length === 3);
      const charts = await page.evaluate(() =>
        (globalThis as unknown as { runnerCharts: { root: any; series: { label: string }[]; data: unknown[][] }[] }).runnerCharts.map((u) => {
          const canvas = u.root.querySelector('canvas');
          const ctx = canvas.getContext('2d');
          const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          let inked = 0;
          for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) inked++;
          return { series: u.series.slice(1).map((s) => s.label), points: u.data[0]!.length, inked, id: u.root.parentElement!.id };
        }),
      );
      expect(charts.map((c) => [c.id, c.series])).toEqual([
        ['equity', ['strategy', 'buy and hold']],
        ['drawdown', ['drawdown %']],
        ['price', ['close']],
      ]);
      for (const c of charts) {
        expect(c.points).toBeGreaterThan(1000);
        expect(c.points).toBeLessThanOrEqual(4002);
        expect(c.inked).toBeGreaterThan(2000);
      }
      expect(await page.textContent('body')).toContain('Sharpe');
      await page.screenshot({ path: join(tmpdir(), 'backtest-report.png'), fullPage: true });
      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
