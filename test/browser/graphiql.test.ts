/**
 * GraphiQL at the gateway's public `/graphql`, in a real browser, on the platform `npm start`
 * runs: bundled from the repo (every request the page makes goes to the gateway, none to a CDN);
 * its editor runs a query over HTTP, and a subscription over graphql-ws whose events arrive one
 * after another in the result pane. Scripts and API clients still get GraphQL on the same path.
 */
import type { ChildProcess } from 'node:child_process';
import type { Browser, Page } from 'puppeteer-core';
import { startPlatform, type RunningPlatform } from '../support/platform';
import { openBrowser, openPage } from '../support/browser';
import { platformToken } from '../support/identity';
import { findService, killService, restartService, stopRestarted } from '../support/serviceProcess';

/** Sets a GraphiQL editor's text through its CodeMirror instance, as typing would; the headers editor is opened from its tab first. */
async function setEditor(page: Page, editor: 'query' | 'headers', text: string): Promise<void> {
  let selector = '.graphiql-query-editor .CodeMirror';
  if (editor === 'headers') {
    await page.locator('.graphiql-editor-tools button ::-p-text(Headers)').click();
    selector = 'section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror';
  }
  await page.waitForSelector(selector);
  await page.$eval(selector, (element, value) => (element as unknown as { CodeMirror: { setValue(v: string): void } }).CodeMirror.setValue(value), text);
}

/** The result pane's text. */
function resultText(page: Page): Promise<string> {
  return page.$eval('.graphiql-response .CodeMirror', (element) => (element as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
}

/** Waits until the result pane matches `pattern`; on a timeout, says what the pane showed. */
async function untilResult(page: Page, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  try {
    await page.waitForFunction(`${pattern}.test(document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() ?? '')`, { timeout: timeoutMs });
  } catch (error) {
    throw new Error(`the result pane never matched ${pattern}; it shows:\n${await resultText(page)}\n(${(error as Error).message})`);
  }
}

async function run(page: Page): Promise<void> {
  await page.click('.graphiql-execute-button');
}

describe('GraphiQL on the gateway', () => {
  let platform: RunningPlatform;
  let browser: Browser;
  let restarted: ChildProcess | undefined;

  beforeAll(async () => {
    platform = await startPlatform();
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await stopRestarted(restarted);
    await platform?.stop();
  });

  it('is at the GraphiQL URL npm start prints', () => {
    expect(platform.output()).toContain(`GraphiQL (queries, mutations, subscriptions): ${platform.gatewayUrl}`);
  });

  it('loads from the gateway alone, and API clients still get GraphQL on the same path', async () => {
    const { page, problems } = await openPage(browser);
    const origins = new Set<string>();
    // data: URLs (the bundled fonts) have no origin; everything fetched over the network must be the gateway.
    page.on('request', (request) => {
      if (/^(https?|wss?):/.test(request.url())) origins.add(new URL(request.url()).origin);
    });
    await page.goto(platform.gatewayUrl);
    await page.waitForSelector('.graphiql-query-editor .CodeMirror');
    expect([...origins]).toEqual([new URL(platform.gatewayUrl).origin]);
    const api = await fetch(`${platform.gatewayUrl}?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(await api.json()).toEqual({ data: { __typename: 'Query' } });
    expect(problems).toEqual([]);
  });

  it('runs a query typed in its editor and shows the result', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(platform.gatewayUrl);
    await setEditor(page, 'query', '{ product(id: "p1") { id name price } }');
    await run(page);
    await untilResult(page, /Trellis Mug/);
    expect(JSON.parse(await resultText(page))).toEqual({ data: { product: { id: 'p1', name: 'Trellis Mug', price: 12.5 } } });
    expect(problems).toEqual([]);
  });

  it('runs a subscription over graphql-ws and shows each of its events as it comes', async () => {
    const token = await platformToken(platform.base, 'u1');
    // With payments down the saga waits at chargePayment, so the subscription sees it running before it ends.
    const payments = findService(platform.pid, 'payments');
    await killService(payments);
    const placed = await fetch(platform.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation { placeOrder(input: { items: [{ productId: "p2", quantity: 1 }], paymentMethod: "card-ok" }) { sagaId } }' }),
    });
    const answer = (await placed.json()) as { data?: { placeOrder: { sagaId: string } } };
    expect(answer).toEqual({ data: { placeOrder: { sagaId: expect.any(String) } } });
    const sagaId = answer.data!.placeOrder.sagaId;

    const { page, problems } = await openPage(browser);
    await page.goto(platform.gatewayUrl);
    await setEditor(page, 'headers', JSON.stringify({ authorization: `Bearer ${token}` }));
    await setEditor(page, 'query', `subscription { sagaStatus(id: "${sagaId}") { id state steps { name state } } }`);
    await run(page);
    await untilResult(page, /"state": "RUNNING"/);
    const first = JSON.parse(await resultText(page));
    expect(first.data.sagaStatus).toMatchObject({ id: sagaId, state: 'RUNNING', steps: [{ name: 'reserveStock' }, { name: 'chargePayment' }, { name: 'createOrder', state: 'PENDING' }] });

    restarted = await restartService(payments);
    await untilResult(page, /"state": "COMPLETED"/, 30_000);
    const last = JSON.parse(await resultText(page));
    expect(last.data.sagaStatus).toEqual({ id: sagaId, state: 'COMPLETED', steps: ['reserveStock', 'chargePayment', 'createOrder'].map((name) => ({ name, state: 'SUCCEEDED' })) });
    expect(problems).toEqual([]);
  });
});
