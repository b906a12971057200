/**
 * A BFF whose gateway goes away: it answers 503 with Retry-After at once (no hanging on a dead
 * gateway; the breaker opens), and serves again by itself once the gateway is back. Also: a broken
 * persisted-operations manifest stops the mobile BFF's start with a clear message.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Env } from '@trellis/kit/internal/config';
import { createLogger } from '@trellis/kit';
import { connectBackends, type Backends } from '@trellis/kit';
import { assembleGateway } from '../../../gateway/assemble';
import type { GatewayServer } from '../../../gateway/server';
import { createMobileBff } from '../../../bff/mobile/app';
import { createWebBff } from '../../../bff/web/app';
import type { BffServer } from '../../../bff/shared';
import { startPlatform, type RunningPlatform } from '../../support/platform';
import { getJson } from '../../support/bff';
import { eventually } from '../../support/graphql';

describe('BFF with its gateway down', () => {
  let platform: RunningPlatform;
  let env: Env;
  let gateway: { server: GatewayServer; backends: Backends } | undefined;
  let gatewayPort = 0;
  let bff: BffServer;
  let bffBackends: Backends;
  let url: string;
  let web: BffServer;
  let webUrl: string;

  const startOwnGateway = async () => {
    const config = loadConfig(env);
    const logger = createLogger({ service: 'gateway', level: 'silent' });
    const backends = await connectBackends(config, logger);
    const server = await assembleGateway({ config, logger, backends });
    gatewayPort = Number(new URL(await server.start(gatewayPort)).port);
    gateway = { server, backends };
  };
  const stopOwnGateway = async () => {
    await gateway?.server.stop();
    await gateway?.backends.close();
    gateway = undefined;
  };

  beforeAll(async () => {
    platform = await startPlatform();
    env = { TRELLIS_DEVHUB_URL: platform.devHubUrl, AUTH_ISSUER: `http://127.0.0.1:${platform.base + 400}`, LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '1000' };
    await startOwnGateway();
    const config = loadConfig({ ...env, GATEWAY_URL: `http://127.0.0.1:${gatewayPort}/graphql`, BFF_CACHE_TTL_MS: '0', BREAKER_RESET_TIMEOUT_MS: '1000' });
    const logger = createLogger({ service: 'mobile-bff', level: 'silent' });
    bffBackends = await connectBackends(config, logger, { uses: ['state'] });
    bff = createMobileBff({ config, logger, state: bffBackends.state });
    url = await bff.start(0);
    web = createWebBff({ config, logger: createLogger({ service: 'web-bff', level: 'silent' }), state: bffBackends.state });
    webUrl = await web.start(0);
    await eventually(async () => expect((await getJson(`${url}/v1/products/p1`)).status).toBe(200), 20_000, 200);
    await eventually(async () => expect((await getJson(`${webUrl}/api/pages/product/p1`)).status).toBe(200), 20_000, 200);
  });
  afterAll(async () => {
    await web.stop();
    await bff.stop();
    await bffBackends.close();
    await stopOwnGateway();
    expect(await platform.stop()).toBe(0);
  });

  it('answers 503 with Retry-After within milliseconds while the gateway is down, then recovers', async () => {
    await stopOwnGateway();
    const timings: number[] = [];
    for (let i = 0; i < 10; i++) {
      const response = await getJson(`${url}/v1/products/p1`);
      timings.push(response.ms);
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('GATEWAY_UNAVAILABLE');
      expect(response.body.error.message).toMatch(/^the gateway is unavailable \(.+\); retry later$/);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    const last = await getJson(`${url}/v1/products/p1`);
    expect(last.body.error.message).toContain('breaker open');
    process.stdout.write(`gateway down: 503 in ${timings.map((ms) => ms.toFixed(1)).join(', ')} ms (breaker open: ${last.ms.toFixed(1)} ms)\n`);
    expect(Math.max(...timings)).toBeLessThan(250);

    const restarted = Date.now();
    await startOwnGateway();
    await eventually(async () => expect((await getJson(`${url}/v1/products/p1`)).status).toBe(200), 15_000, 100);
    process.stdout.write(`gateway back: BFF serving again ${Date.now() - restarted} ms after the gateway restart began\n`);
  });

  it('web BFF: a clear 503 GATEWAY_UNAVAILABLE with Retry-After while the gateway is down, serving again when it returns, without a restart', async () => {
    await stopOwnGateway();
    for (let i = 0; i < 10; i++) {
      const response = await getJson(`${webUrl}/api/pages/product/p1`);
      expect(response.status).toBe(503);
      expect(response.body.error).toMatchObject({ code: 'GATEWAY_UNAVAILABLE', message: expect.stringMatching(/^the gateway is unavailable \(.+\); retry later$/), correlationId: expect.any(String) });
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // At once, not at the 5 s gateway deadline (BFF_GATEWAY_TIMEOUT_MS) a hung gateway would take.
      expect(response.ms).toBeLessThan(500);
    }
    // The session endpoints do not need the gateway and keep answering.
    expect((await getJson(`${webUrl}/api/session`)).body).toEqual({ user: null });

    await startOwnGateway();
    await eventually(async () => {
      const response = await getJson(`${webUrl}/api/pages/product/p1`);
      expect([response.status, response.body.product?.id]).toEqual([200, 'p1']);
    }, 15_000, 100);
  });

  it('refuses to start the mobile BFF on a broken persisted operations manifest, naming the file and operation', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bff-manifest-'));
    const broken = path.join(dir, 'ops.json');
    writeFileSync(broken, JSON.stringify({ Fine: '{ products { id } }', Broken: '{ products { id ' }));
    const config = loadConfig({ ...env, MOBILE_PERSISTED_OPERATIONS: broken });
    const logger = createLogger({ service: 'mobile-bff', level: 'silent' });
    expect(() => createMobileBff({ config, logger, state: bffBackends.state })).toThrow(`MOBILE_PERSISTED_OPERATIONS=${broken}: operation "Broken" is not valid GraphQL`);
    writeFileSync(broken, 'not json');
    expect(() => createMobileBff({ config, logger, state: bffBackends.state })).toThrow(/cannot read the manifest as JSON/);
  });
});
