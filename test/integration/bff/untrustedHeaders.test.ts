/**
 * "Headers like x-user-id are never trusted", at the BFFs: a client that sends one is still
 * anonymous, and the header never reaches the gateway.
 */
import { loadConfig } from '@trellis/kit';
import { createLogger } from '@trellis/kit';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { createWebBff } from '../../../bff/web/app';
import { createMobileBff } from '../../../bff/mobile/app';
import type { BffServer } from '../../../bff/shared';
import { getJson, sendJson } from '../../support/bff';
import { startScriptedGateway, type ScriptedGateway } from '../../support/scriptedGateway';
import { startTestIdentity, type TestIdentity } from '../../support/identity';

const spoofed = { 'x-user-id': 'u1', 'x-user-scopes': 'payments:read', 'x-forwarded-user': 'u1' };

describe('BFFs ignore identity headers from clients', () => {
  let gateway: ScriptedGateway;
  let identity: TestIdentity;
  const bffs: BffServer[] = [];
  let web: string;
  let mobile: string;

  beforeAll(async () => {
    identity = await startTestIdentity();
    gateway = await startScriptedGateway();
    gateway.answer({ body: { data: { products: [], me: null } } });
    const config = loadConfig({ ...identity.env, GATEWAY_URL: gateway.graphqlUrl, BFF_CACHE_TTL_MS: '0', LOG_LEVEL: 'silent' });
    const logger = createLogger({ service: 'bff', level: 'silent' });
    bffs.push(createWebBff({ config, logger, state: new InMemoryStateStore() }), createMobileBff({ config, logger, state: new InMemoryStateStore() }));
    [web, mobile] = await Promise.all(bffs.map((bff) => bff.start(0)));
  });
  afterAll(async () => {
    for (const bff of bffs) await bff.stop();
    await gateway.close();
    await identity.stop();
  });

  it('web: a spoofed x-user-id gets no session, no personal page, and is not forwarded', async () => {
    expect((await getJson(`${web}/api/session`, spoofed)).body).toEqual({ user: null });
    expect((await getJson(`${web}/api/pages/orders`, spoofed)).status).toBe(401);
    const home = await getJson(`${web}/api/pages/home`, spoofed);
    expect([home.status, home.body.user]).toEqual([200, null]);
    const passthrough = await sendJson('POST', `${web}/graphql`, { query: '{ me { id } }' }, spoofed);
    expect(passthrough.status).not.toBe(500);
    expect(gateway.requests.length).toBeGreaterThan(0);
    for (const request of gateway.requests) {
      expect(request.headers).not.toHaveProperty('x-user-id');
      expect(request.headers).not.toHaveProperty('x-user-scopes');
      expect(request.headers).not.toHaveProperty('x-forwarded-user');
      expect(request.headers.authorization).toBeUndefined();
    }
    // The home page was built for an anonymous caller: its catalog part asked for, its user part (`me`) not.
    const homeOperations = gateway.requests.map((request) => /^query (Home\w+)/.exec(request.body.query)?.[1]).filter(Boolean);
    expect(homeOperations).toEqual(['HomeFeatured']);
  });

  it('mobile: a spoofed x-user-id is refused where a token is needed, and is not forwarded', async () => {
    gateway.requests.length = 0;
    const me = await getJson(`${mobile}/v1/me`, spoofed);
    expect([me.status, me.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
    const orders = await getJson(`${mobile}/v1/orders`, spoofed);
    expect(orders.status).toBe(401);
    expect(gateway.requests).toEqual([]);
    // With a real token the caller is the token's subject, whatever the header says.
    const token = await identity.token('u2');
    gateway.answer({ body: { data: { me: { id: 'u2', name: 'Grace', orders: [] } } } });
    await getJson(`${mobile}/v1/me`, { ...spoofed, authorization: `Bearer ${token}` });
    expect(gateway.requests).toHaveLength(1);
    expect(gateway.requests[0].headers).not.toHaveProperty('x-user-id');
    expect(gateway.requests[0].headers.authorization).toBe(`Bearer ${token}`);
  });
});
