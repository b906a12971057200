/**
 * A real browser for the browser tests: Debian's headless Chromium (installed by
 * test/stack/browser.sh, or CHROMIUM_PATH) driven by puppeteer-core, which downloads nothing.
 * puppeteer-core stays on 24.x: 25 ships only ES modules, which ts-jest's CommonJS runtime cannot load.
 *
 *   const browser = await openBrowser();
 *   const { page, problems } = await openPage(browser);
 *   await page.goto(url);
 *   ...
 *   expect(problems).toEqual([]);   // uncaught errors, console.error and failed requests
 *   await browser.close();
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

const REPO = path.resolve(__dirname, '..', '..');

/** The Chromium to drive: CHROMIUM_PATH, else the one test/stack/browser.sh installs (and prints). */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  try {
    return execFileSync(path.join(REPO, 'test/stack/browser.sh'), { encoding: 'utf8' }).trim();
  } catch (error) {
    throw new Error(`no Chromium for the browser tests (test/stack/browser.sh failed): ${(error as Error).message}`);
  }
}

/** Starts headless Chromium. Close it in afterAll. */
export async function openBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--window-size=1280,900'],
    defaultViewport: { width: 1280, height: 900 },
  });
}

export interface OpenedPage {
  page: Page;
  /** What went wrong in the page so far: uncaught errors, console.error lines, failed requests. */
  problems: string[];
  /** The problems `expected` filtered out, so a test can wait until what it caused has happened. */
  ignored: string[];
}

/**
 * A new tab that records its problems, so a test can assert the page ran cleanly. `expected`
 * filters out problems a test causes on purpose (a killed subgraph's failed fetch, say).
 */
export async function openPage(browser: Browser, expected: RegExp[] = []): Promise<OpenedPage> {
  const page = await browser.newPage();
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  const ignored: string[] = [];
  const record = (problem: string) => {
    (expected.some((pattern) => pattern.test(problem)) ? ignored : problems).push(problem);
  };
  page.on('pageerror', (error) => record(`page error: ${(error as Error).message ?? String(error)}`));
  page.on('console', (message) => {
    // The location names the resource a "Failed to load resource" line is about, so a pattern
    // for an expected failed request filters Chromium's console line for it too.
    const where = message.location().url;
    if (message.type() === 'error') record(`console.error: ${message.text()}${where ? ` (${where})` : ''}`);
  });
  page.on('requestfailed', (request) => record(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  return { page, problems, ignored };
}

/**
 * Saves a screenshot into docs/ when TRELLIS_SCREENSHOTS=1 (how the README's pictures are made:
 * `TRELLIS_SCREENSHOTS=1 npx jest test/browser`), and does nothing otherwise, so a test run does
 * not rewrite committed files.
 */
export async function screenshotForDocs(page: Page, file: string): Promise<void> {
  if (process.env.TRELLIS_SCREENSHOTS !== '1') return;
  const target = path.join(REPO, 'docs', file);
  mkdirSync(path.dirname(target), { recursive: true });
  await page.screenshot({ path: target as `${string}.png`, fullPage: true });
}
