/** What a BFF is built from, made from config: each piece takes its setting from the variable docs/bff.md names. */
import express from 'express';
import { createBffServices, type BffServices } from '../../../../bff/shared';
import { loadConfig, type Env } from '@trellis/kit/internal/config';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { recordingLogger, serveOnLoopback, type Loopback } from '../../../support/loopback';

describe('createBffServices', () => {
  let hung: Loopback;
  let services: BffServices | undefined;
  beforeAll(async () => {
    hung = await serveOnLoopback(() => undefined); // a gateway that never answers
  });
  afterEach(async () => {
    await services?.gateway.close();
    services = undefined;
  });
  afterAll(() => hung.close());

  const build = (env: Env, app: 'web' | 'mobile' = 'web') => {
    const state = new InMemoryStateStore();
    services = createBffServices({ app, config: loadConfig({ GATEWAY_URL: `${hung.url}/graphql`, ...env }), logger: recordingLogger().logger, state });
    return { services, state };
  };

  it('labels its metrics with the BFF and names itself', async () => {
    const { services } = build({}, 'mobile');
    expect(services.app).toBe('mobile');
    expect(await services.registry.metrics()).toContain('service="mobile-bff"');
  });

  it('calls the configured gateway with BFF_GATEWAY_TIMEOUT_MS as the deadline and Retry-After from BREAKER_RESET_TIMEOUT_MS', async () => {
    const { services } = build({ BFF_GATEWAY_TIMEOUT_MS: '120', BREAKER_RESET_TIMEOUT_MS: '4500', BREAKER_TIMEOUT_MS: '60000' });
    await expect(services.gateway.execute({ query: '{ a }', correlationId: 'c' })).rejects.toMatchObject({ code: 'GATEWAY_UNAVAILABLE', message: 'the gateway is unavailable (timed out); retry later', retryAfterSec: 5 });
    const text = await services.registry.metrics();
    expect(text).toContain('trellis_breaker_state{breaker="gateway",kind="guard",service="web-bff"}');
  });

  it('verifies tokens only when an issuer is configured', () => {
    expect(build({}).services.verifier).toBeUndefined();
    expect(build({ AUTH_ISSUER: 'https://issuer.example' }).services.verifier).toEqual(expect.objectContaining({ verify: expect.any(Function) }));
  });

  it('caches under the app name for BFF_CACHE_TTL_MS, and not at all with 0', async () => {
    const on = build({ BFF_CACHE_TTL_MS: '5000' });
    await on.services.cache.read({ resource: 'r', personal: false }, async () => ({ value: 1, cacheable: true }));
    expect(await on.state.keys('bff:')).toEqual(['bff:web:cache:public:r']);
    expect(await on.services.registry.metrics()).toContain('trellis_bff_cache_lookups_total{app="web",outcome="miss",service="web-bff"} 1');
    const off = build({ BFF_CACHE_TTL_MS: '0' });
    await off.services.cache.read({ resource: 'r', personal: false }, async () => ({ value: 1, cacheable: true }));
    expect(await off.state.keys('bff:')).toEqual([]);
  });

  it('rate limits per minute at BFF_RATE_LIMIT_PER_MINUTE', async () => {
    const { services } = build({ BFF_RATE_LIMIT_PER_MINUTE: '2' });
    const app = express().use(services.rateLimit).get('/', (_req, res) => void res.send('ok'));
    app.use(((error, _req, res, _next) => void res.status((error as { status: number }).status).send('')) as express.ErrorRequestHandler);
    const loopback = await serveOnLoopback(app);
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(loopback.url)).status);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await loopback.close();
    }
  });
});
