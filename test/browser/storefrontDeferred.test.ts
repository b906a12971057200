/**
 * The storefront's product page with `@defer`, in real Chromium (issue 32 item 4): the page asks the
 * web BFF's `/graphql` for the product and recommendations with the stock deferred; the BFF passes
 * the gateway's multipart answer through unbuffered. With the catalog's stock lookup held at a gate
 * the test opens, the page shows the product and its recommendations first, "Checking stock…"
 * where the stock goes, and the stock with the order form once the gate opens.
 */
import type { Browser, Page } from 'puppeteer-core';
import { loadConfig, createLogger } from '@trellis/kit';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { createWebBff } from '../../bff/web/app';
import type { BffServer } from '../../bff/shared';
import { catalogSubgraph } from '../../subgraphs/catalog';
import { openBrowser, openPage } from '../support/browser';
import { createGate, heldReferences, type Gate } from '../support/gate';
import { startStaticPlatform, type StaticPlatform } from '../support/staticPlatform';
import { startTestIdentity, type TestIdentity } from '../support/identity';

describe('storefront product page with @defer (web BFF, real Chromium)', () => {
  let identity: TestIdentity;
  let platform: StaticPlatform;
  let bff: BffServer;
  let store: string;
  let browser: Browser;
  let stock: Gate = createGate();

  beforeAll(async () => {
    identity = await startTestIdentity();
    [platform, browser] = await Promise.all([
      // The catalog answers its own queries at once; only what the gateway asks it by key (the deferred stock) waits at the gate.
      startStaticPlatform(identity.env, {}, identity.env, { factories: { catalog: heldReferences(catalogSubgraph, 'Product', () => stock) } }),
      openBrowser(),
    ]);
    bff = createWebBff({
      config: loadConfig({ ...identity.env, LOG_LEVEL: 'silent', GATEWAY_URL: platform.url }),
      logger: createLogger({ service: 'web-bff', level: 'silent' }),
      state: new InMemoryStateStore(),
    });
    store = await bff.start(0);
  });

  afterAll(async () => {
    stock.open();
    await browser?.close();
    await bff?.stop();
    await platform?.stop();
    await identity?.stop();
  });

  const text = (page: Page, selector: string) => page.$eval(selector, (el) => el.textContent);

  it('shows the product and its recommendations while the stock is held, then the stock and the order form', async () => {
    stock = createGate();
    const { page, problems } = await openPage(browser);
    await page.goto(`${store}/#/signin`);
    await page.waitForSelector('#user-id');
    await page.$eval('#user-id', (input) => ((input as unknown as { value: string }).value = 'u1'));
    await page.click('form button[type=submit]');
    await page.waitForSelector('[data-user="u1"]');

    await page.goto(`${store}/#/product/p2`);
    await page.waitForSelector('#product-name');
    // The catalog has the stock request and has not answered it: everything shown so far came first.
    await stock.reached;
    expect(await text(page, '#product-name')).toBe('Federation Hoodie');
    expect(await text(page, '.product-detail .price')).toBe('$54.00');
    expect(await text(page, '.stock-slot .stock[data-pending]')).toBe('Checking stock…');
    expect(await page.$('form.order-form')).toBeNull();
    expect(await page.$$eval('#related + .grid .product h3', (names) => names.map((name) => name.textContent))).toEqual([
      'Trellis Mug',
      'Circuit Breaker Sticker Pack',
      'Saga Notebook',
      'Gateway Desk Lamp',
    ]);

    stock.open();
    await page.waitForSelector('form.order-form');
    expect(await text(page, '.stock-slot .stock')).toMatch(/^\d+ in stock$/);
    expect(await page.$('.notice')).toBeNull();
    expect(problems).toEqual([]);
    await page.close();
  });

  it('says a product that does not exist is not found', async () => {
    stock = createGate();
    stock.open();
    const { page, problems } = await openPage(browser);
    await page.goto(`${store}/#/product/p999`);
    await page.waitForSelector('.card.error h1');
    expect(await text(page, '.card.error h1')).toBe('Not found');
    expect(problems).toEqual([]);
    await page.close();
  });
});
