/**
 * The browser the other browser tests rely on: Debian's Chromium starts headless, runs a page's
 * script, and the page's problems (uncaught errors, console.error, failed requests) are reported,
 * so a browser test cannot pass on a page that broke.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'puppeteer-core';
import { openBrowser, openPage } from '../support/browser';

const PAGE = `<!doctype html><title>t</title><p id="out">static</p>
<script>
  document.getElementById('out').textContent = 'ran ' + (6 * 7);
  console.error('deliberate');
  fetch('/missing-server-gone').catch(() => {});
  setTimeout(() => { throw new Error('thrown later'); }, 0);
</script>`;

describe('browser support', () => {
  let browser: Browser;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/missing-server-gone') return request.socket.destroy();
      response.setHeader('content-type', 'text/html');
      response.end(PAGE);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('runs the page script and reports every problem the page had', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`${base}/`);
    await page.waitForFunction('document.getElementById("out").textContent === "ran 42"');
    expect(await page.$eval('#out', (element) => element.textContent)).toBe('ran 42');
    await until(() => problems.length >= 3);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^console\.error: deliberate \(http:\/\/127\.0\.0\.1:\d+\/\)$/),
        expect.stringMatching(/^request failed: .*\/missing-server-gone/),
        expect.stringMatching(/^page error: .*thrown later/),
      ]),
    );
  });

  it('leaves out the problems a test expects', async () => {
    const { page, problems, ignored } = await openPage(browser, [/deliberate/, /missing-server-gone/]);
    await page.goto(`${base}/`);
    // Wait for what the page causes on purpose as well, so the assertion does not pass on silence.
    await until(() => problems.length >= 1 && ignored.some((problem) => problem.startsWith('request failed:')));
    await until(() => ignored.some((problem) => problem.includes('deliberate')));
    expect(problems).toEqual([expect.stringMatching(/thrown later/)]);
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
