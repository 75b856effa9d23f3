/** Debian's Chromium through playwright-core, headless, with a fresh profile per launch. */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'runner-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Where screenshots go: $SCREENSHOT_DIR, else a temp directory. */
export function screenshotPath(name: string): string {
  const dir = process.env.SCREENSHOT_DIR ?? join(tmpdir(), 'runner-screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
