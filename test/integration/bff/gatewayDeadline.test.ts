/**
 * The BFFs' gateway deadline (BFF_GATEWAY_TIMEOUT_MS): with a gateway that accepts and never
 * answers, each BFF answers 503 GATEWAY_UNAVAILABLE at the deadline, measured against it.
 */
import { loadConfig } from '@trellis/kit';
import { createLogger } from '@trellis/kit';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { createWebBff } from '../../../bff/web/app';
import { createMobileBff } from '../../../bff/mobile/app';
import type { BffServer } from '../../../bff/shared';
import { getJson } from '../../support/bff';
import { startScriptedGateway, type ScriptedGateway } from '../../support/scriptedGateway';

const DEADLINE_MS = 700;

describe('BFF gateway deadline', () => {
  let gateway: ScriptedGateway;
  const bffs: BffServer[] = [];
  let web: string;
  let mobile: string;

  beforeAll(async () => {
    gateway = await startScriptedGateway();
    gateway.hang();
    const config = loadConfig({ GATEWAY_URL: gateway.graphqlUrl, BFF_GATEWAY_TIMEOUT_MS: String(DEADLINE_MS), BFF_CACHE_TTL_MS: '0', LOG_LEVEL: 'silent' });
    const logger = createLogger({ service: 'bff', level: 'silent' });
    bffs.push(createWebBff({ config, logger, state: new InMemoryStateStore() }), createMobileBff({ config, logger, state: new InMemoryStateStore() }));
    [web, mobile] = await Promise.all(bffs.map((bff) => bff.start(0)));
  });
  afterAll(async () => {
    for (const bff of bffs) await bff.stop();
    await gateway.close();
  });

  it.each([
    ['web', () => `${web}/api/pages/home`],
    ['mobile', () => `${mobile}/v1/products/p1`],
  ])('%s: a hung gateway is answered with 503 at BFF_GATEWAY_TIMEOUT_MS', async (_name, url) => {
    const asked = gateway.requests.length;
    const response = await getJson(url());
    expect(gateway.requests.length).toBe(asked + 1); // it did reach the gateway, which hung
    expect(response.status).toBe(503);
    expect(response.body.error).toMatchObject({ code: 'GATEWAY_UNAVAILABLE', message: 'the gateway is unavailable (timed out); retry later' });
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    process.stdout.write(`${_name} BFF, hung gateway: 503 after ${response.ms.toFixed(0)} ms (deadline ${DEADLINE_MS} ms)\n`);
    expect(response.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 20);
    expect(response.ms).toBeLessThan(DEADLINE_MS + 400);
  });
});
