/**
 * The operator console (`/admin/` on the gateway's admin listener) in a real browser, on the
 * platform `npm start` runs: it shows the supergraph and every subgraph's instances; when the
 * catalog process is SIGKILLed and traffic keeps coming, catalog's breaker shows open, and once
 * catalog is back it shows closed again, with the transitions in between; the sagas placed show
 * with their steps; the entity cache's panel shows its mode.
 */
import type { ChildProcess } from 'node:child_process';
import type { Browser, Page } from 'puppeteer-core';
import { startPlatform, type RunningPlatform } from '../support/platform';
import { openBrowser, openPage, screenshotForDocs } from '../support/browser';
import { platformToken } from '../support/identity';
import { findService, killService, restartService, stopRestarted } from '../support/serviceProcess';

const SUBGRAPHS = ['catalog', 'orders', 'payments', 'sagas', 'users'];
const PRODUCTS = '{ products(first: 5) { id name } }';

describe('operator console', () => {
  let platform: RunningPlatform;
  let browser: Browser;
  let consoleUrl: string;
  let restarted: ChildProcess | undefined;

  beforeAll(async () => {
    platform = await startPlatform();
    consoleUrl = `http://127.0.0.1:${platform.base + 700}/admin/`;
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await stopRestarted(restarted);
    await platform?.stop();
  });

  const query = async (document: string, headers: Record<string, string> = {}) => {
    const response = await fetch(platform.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: document }) });
    return (await response.json()) as { data?: Record<string, unknown>; errors?: Array<{ extensions?: { code?: string } }> };
  };
  const breakerOf = (page: Page, subgraph: string) => page.$eval(`[data-subgraph="${subgraph}"] [data-field="breaker"]`, (element) => element.textContent);
  /** Sends queries until `done` (checked in the page), so the console has traffic to show. */
  const withTraffic = async (page: Page, condition: string, timeoutMs = 30_000) => {
    let sending = true;
    const traffic = (async () => {
      while (sending) {
        await query(PRODUCTS).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      await page.waitForFunction(condition, { timeout: timeoutMs, polling: 100 });
    } finally {
      sending = false;
      await traffic;
    }
  };

  it('is the console URL npm start prints', () => {
    expect(platform.output()).toContain(`Console (supergraph, instances, breakers, sagas, traffic): ${consoleUrl}`);
  });

  it('shows the supergraph, every subgraph with its healthy instances, and their traffic', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(consoleUrl);
    await page.waitForSelector('[data-subgraph="catalog"] [data-instance]');
    expect(await page.$$eval('[data-subgraph]', (rows) => rows.map((row) => row.getAttribute('data-subgraph')))).toEqual(SUBGRAPHS);
    // Each instance as discovery last checked it: wait for every check to have passed once.
    const allHealthy = `[...document.querySelectorAll('[data-subgraph]')].every((row) => [...row.querySelectorAll('[data-instance]')].map((item) => item.getAttribute('data-health')).join() === 'healthy')`;
    await page.waitForFunction(allHealthy, { timeout: 15_000 }).catch(() => undefined);
    for (const subgraph of SUBGRAPHS) {
      expect([subgraph, await page.$$eval(`[data-subgraph="${subgraph}"] [data-instance]`, (items) => items.map((item) => item.getAttribute('data-health')))]).toEqual([subgraph, ['healthy']]);
    }
    expect(Number(await page.$eval('[data-field="version"]', (element) => element.textContent))).toBeGreaterThanOrEqual(1);
    await withTraffic(page, `Number(document.querySelector('[data-subgraph="catalog"] [data-field="requests"]')?.textContent) > 0`);
    expect(await breakerOf(page, 'catalog')).toBe('closed');
    // The entity cache's panel: npm start runs with ENTITY_CACHE off, so no change feed.
    expect(await page.$eval('#cache-section [data-field="cache-mode"]', (element) => element.textContent)).toBe('off');
    expect(await page.$eval('#cache-section [data-field="cache-feed"]', (element) => element.textContent)).toBe('none');
    expect(problems).toEqual([]);
  });

  it('shows the sagas placed, with their steps', async () => {
    const buyer = { authorization: `Bearer ${await platformToken(platform.base, 'u1')}` };
    const placed = await query('mutation { placeOrder(input: { items: [{ productId: "p1", quantity: 1 }], paymentMethod: "card-declined" }) { sagaId } }', buyer);
    const sagaId = (placed.data?.placeOrder as { sagaId: string }).sagaId;
    const { page, problems } = await openPage(browser);
    await page.goto(consoleUrl);
    await page.waitForSelector(`#sagas-finished [data-saga="${sagaId}"].COMPENSATED`);
    expect(await page.$$eval(`[data-saga="${sagaId}"] .steps li`, (steps) => steps.map((step) => step.textContent))).toEqual([
      'reserveStock: COMPENSATED',
      'chargePayment: FAILED',
      'createOrder: PENDING',
    ]);
    expect(problems).toEqual([]);
  });

  it('shows catalog’s breaker open once catalog is killed and traffic comes, and closed after catalog returns', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(consoleUrl);
    await page.waitForSelector('[data-subgraph="catalog"] [data-field="breaker"]');
    expect(await breakerOf(page, 'catalog')).toBe('closed');

    const catalog = findService(platform.pid, 'catalog');
    await killService(catalog);
    // The console says where the errors are: errors/s is a rate over the last few samples, so it is
    // read while traffic flows (a read after the traffic stopped saw it decay to 0 on a loaded CI run).
    await withTraffic(
      page,
      `document.querySelector('[data-subgraph="catalog"] [data-field="breaker"]')?.textContent === 'open' && Number(document.querySelector('[data-subgraph="catalog"] [data-field="errors"]')?.textContent) > 0`,
    );
    // The rest of the graph keeps answering.
    expect((await query('{ user(id: "u1") { name } }')).data).toEqual({ user: { name: 'Ada Lovelace' } });
    expect(await breakerOf(page, 'users')).toBe('closed');

    restarted = await restartService(catalog);
    await withTraffic(page, `document.querySelector('[data-subgraph="catalog"] [data-field="breaker"]')?.textContent === 'closed'`);
    const transitions = await page.$$eval('[data-subgraph="catalog"] .transitions li', (items) => items.map((item) => item.getAttribute('class')));
    // Newest first: closed after a half-open trial, after the open.
    expect(transitions.slice(0, 3)).toEqual(['closed', 'half_open', 'open']);
    expect((await query(PRODUCTS)).errors).toBeUndefined();
    await page.waitForFunction(`[...document.querySelectorAll('[data-subgraph="catalog"] [data-instance]')].some((item) => item.getAttribute('data-health') === 'healthy')`);
    await screenshotForDocs(page, 'console.png');
    expect(problems).toEqual([]);
  });
});
