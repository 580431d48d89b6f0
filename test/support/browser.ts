import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from '@jest/globals';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { TestBackend } from './backend.js';

/** Debian's Chromium (`apt-get install chromium`); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const browserAvailable = existsSync(CHROMIUM_PATH);

/** The browser suites run only where Chromium is installed; elsewhere they say so in one line. */
export function announceBrowserSkip(suite: string): void {
  if (!browserAvailable)
    process.stderr.write(`${suite}: browser tests skipped, no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)\n`);
}

/** `describe` for a browser suite: `describe.skip` where Chromium is missing, announced as above. */
export function describeIfBrowser(suite: string): typeof describe.skip {
  announceBrowserSkip(suite);
  return browserAvailable ? describe : describe.skip;
}

export const PHONE = { width: 375, height: 812 };
export const DESKTOP = { width: 1280, height: 860 };

/**
 * Screenshots of the main pages. `npm run screenshots` writes them to docs/console
 * (the README shows those files); a plain test run writes them to a temporary folder.
 */
export const SCREENSHOT_DIR =
  process.env.CONSOLE_SCREENSHOTS === 'update' ? join(process.cwd(), 'docs', 'console') : join(tmpdir(), 'console-screenshots');

export interface ConsoleBrowser {
  browser: Browser;
  /** A fresh context (own storage) at a viewport; every request it makes is recorded. */
  open(viewport?: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page; requests: string[] }>;
  shoot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

export async function launchConsoleBrowser(): Promise<ConsoleBrowser> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  // Playwright gives each launch a fresh, empty --user-data-dir of its own and removes it on close.
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async open(viewport = DESKTOP) {
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'UTC' });
      contexts.push(context);
      const requests: string[] = [];
      context.on('request', (request) => requests.push(request.url()));
      const page = await context.newPage();
      return { context, page, requests };
    },
    async shoot(page, name) {
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true, animations: 'disabled' });
      return path;
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}

/** Signs in through the console's own pages, reading the code from the SMS outbox as a person would from their phone. */
export async function signInThroughConsole(page: Page, backend: TestBackend, phone: string, path = '/console/'): Promise<void> {
  await page.goto(`${backend.faultsUrl}${path}`);
  await page.getByLabel('Phone number').fill(phone);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByLabel('Code').waitFor();
  await page.getByLabel('Code').fill(await backend.lastCode(phone));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** True when the page is wider than its viewport (something would scroll sideways on a phone). */
export async function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
}
