/**
 * The storefront in a real browser, on the platform started as `npm start` starts it: sign in as a
 * dev user, place an order and watch every saga step change live until COMPLETED, a declined card
 * compensated in reverse order, and, with catalog SIGKILLed, the home page still showing the user
 * and orders with each product marked unavailable. Every page must run without unexpected problems.
 */
import type { Browser, Page } from 'puppeteer-core';
import { openBrowser, openPage, screenshotForDocs } from '../support/browser';
import { startPlatform, type RunningPlatform } from '../support/platform';
import { webUrl } from '../support/bff';

/** One entry of the page's "What happened" log: the saga state and every step's state at that change. */
interface Seen {
  state: string;
  steps: Record<string, string>;
}

describe('storefront (web BFF, real Chromium)', () => {
  let platform: RunningPlatform;
  let browser: Browser;
  let store: string;

  beforeAll(async () => {
    // A pause before each step, as a person watching would set it: without one the embedded platform
    // finishes a saga before the page's WebSocket opens, and the page sees only the final state.
    [platform, browser] = await Promise.all([startPlatform({ env: { SAGA_STEP_PAUSE_MS: '300' } }), openBrowser()]);
    store = webUrl(platform);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  const signIn = async (page: Page, userId = 'u1') => {
    await page.goto(`${store}/#/signin`);
    await page.waitForSelector('#user-id');
    await page.$eval('#user-id', (input, id) => ((input as unknown as { value: string }).value = id as string), userId);
    await page.click('form button[type=submit]');
    // Signed in, the app goes home: wait for it (a session from an earlier test may show in the header already).
    await page.waitForSelector('#welcome');
    await page.waitForSelector(`[data-user="${userId}"]`);
  };

  const sagaLog = (page: Page): Promise<Seen[]> =>
    page.$$eval('.saga-log li', (items) =>
      items.map((item) => ({
        state: item.getAttribute('data-state') ?? '',
        steps: Object.fromEntries(
          (item.getAttribute('data-steps') ?? '').split(',').map((pair: string) => pair.split(':')),
        ),
      })),
    );

  /** Orders one unit of `productId` with `paymentMethod` from its product page and waits for the saga's final state. */
  const order = async (page: Page, productId: string, paymentMethod: string) => {
    await page.goto(`${store}/#/product/${productId}`);
    await page.waitForSelector('form.order-form');
    await page.select('#payment', paymentMethod);
    await page.click('form.order-form button[type=submit]');
    await page.waitForSelector('.saga-state');
    await page.waitForSelector('.outcome[data-final]', { timeout: 30_000 });
    return { final: await page.$eval('.outcome', (el) => el.getAttribute('data-final')), seen: await sagaLog(page) };
  };

  /** The order (by index) in which `seen` first shows each step in `state`. */
  const firstReached = (seen: Seen[], state: string) => {
    const order: string[] = [];
    for (const entry of seen)
      for (const [step, now] of Object.entries(entry.steps))
        if (now === state && !order.includes(step)) order.push(step);
    return order;
  };

  it('serves the page under a content security policy with no inline script', async () => {
    const response = await fetch(`${store}/`);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son\w+=/);
  });

  it('signs in as a dev user and shows them, their orders with products, and the featured products', async () => {
    const { page, problems } = await openPage(browser);
    await signIn(page);
    await page.waitForSelector('#welcome');
    expect(await page.$eval('#welcome', (el) => el.textContent)).toBe('Welcome back, Ada Lovelace');
    expect(await page.$$eval('.order .item', (items) => items.map((item) => item.textContent))).toEqual([
      '1 × Federation Hoodie',
      '2 × Trellis Mug',
      '1 × Circuit Breaker Sticker Pack',
    ]);
    expect(await page.$$eval('.grid .product h3', (names) => names.map((name) => name.textContent))).toEqual([
      'Trellis Mug',
      'Federation Hoodie',
      'Circuit Breaker Sticker Pack',
      'Saga Notebook',
    ]);
    await screenshotForDocs(page, 'storefront.png');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('places an order and shows each saga step change live until COMPLETED, then lists the order', async () => {
    const { page, problems } = await openPage(browser);
    await signIn(page);
    const { final, seen } = await order(page, 'p4', 'card-ok');
    expect(final).toBe('COMPLETED');
    // The steps ran one after another, and the page saw each of them succeed, in order.
    expect(firstReached(seen, 'SUCCEEDED')).toEqual(['reserveStock', 'chargePayment', 'createOrder']);
    expect(seen[0].state).toMatch(/^(PENDING|RUNNING)$/);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.at(-1)).toEqual({
      state: 'COMPLETED',
      steps: { reserveStock: 'SUCCEEDED', chargePayment: 'SUCCEEDED', createOrder: 'SUCCEEDED' },
    });
    // Each change is one step further: a step never goes back to PENDING once it started.
    for (let i = 1; i < seen.length; i++) {
      for (const [step, state] of Object.entries(seen[i].steps))
        if (seen[i - 1].steps[step] !== 'PENDING') expect(state).not.toBe('PENDING');
    }
    await screenshotForDocs(page, 'storefront-saga.png');

    await page.click('.outcome a[href="#/orders"]');
    await page.waitForSelector('.orders .order');
    expect(await page.$$eval('.order .item', (items) => items.map((item) => item.textContent))).toContain(
      '1 × Saga Notebook',
    );
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows a declined card compensated: the charge fails, the finished steps are undone in reverse order', async () => {
    const { page, problems } = await openPage(browser);
    await signIn(page, 'u2');
    const { final, seen } = await order(page, 'p1', 'card-declined');
    expect(final).toBe('COMPENSATED');
    expect(firstReached(seen, 'SUCCEEDED')).toEqual(['reserveStock']);
    expect(firstReached(seen, 'FAILED')).toEqual(['chargePayment']);
    expect(seen.map((entry) => entry.state)).toContain('COMPENSATING');
    // Compensations run for the finished steps, last finished first.
    expect(firstReached(seen, 'COMPENSATED')).toEqual(['reserveStock']);
    expect(seen.at(-1)).toEqual({
      state: 'COMPENSATED',
      steps: { reserveStock: 'COMPENSATED', chargePayment: 'FAILED', createOrder: 'PENDING' },
    });
    expect(await page.$eval('.outcome', (el) => el.textContent)).toContain('card declined');
    expect(await page.$eval('[data-compensated]', (el) => el.getAttribute('data-compensated'))).toBe('reserveStock');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('with catalog killed, the home page still shows the user and orders, each product marked unavailable', async () => {
    await platform.killService('catalog');
    const { page, problems } = await openPage(browser);
    await signIn(page);
    await page.waitForSelector('#welcome');
    await page.waitForSelector('.notice');
    expect(await page.$eval('#welcome', (el) => el.textContent)).toBe('Welcome back, Ada Lovelace');
    const items = await page.$$eval('.order .item', (list) => list.map((item) => item.textContent));
    expect(items.length).toBeGreaterThanOrEqual(3);
    expect(items.every((item) => / × Product unavailable$/.test(item ?? ''))).toBe(true);
    expect(await page.$eval('.notice', (el) => el.textContent)).toContain('The catalog service is not answering');
    expect(await page.$eval('#featured + *', (el) => el.textContent)).toBe('Products unavailable');
    await screenshotForDocs(page, 'storefront-catalog-down.png');
    expect(problems).toEqual([]);
    await page.close();
  });
});
