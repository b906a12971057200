/**
 * Stale-if-error against a real JWKS endpoint that fails: past the cache age, while the endpoint
 * answers 500, is unreachable (stopped) or hangs, tokens keep verifying with the last good keys;
 * the outage is logged once and counted, refetches back off, and the keys refresh once it answers.
 * Time is the injected clock: nothing sleeps.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { Registry } from 'prom-client';
import { createTokenVerifier, RemoteKeySet, SigningKeysUnavailableError } from '@trellis/kit/internal/auth';
import { createLogger } from '@trellis/kit';
import { listen } from '@trellis/kit/bff';

const issuer = 'https://issuer.test';
const settings = (jwksUrl: string) => ({ issuer, audience: 'trellis', jwksUrl, algorithms: ['ES256'], clockToleranceSec: 5 });
const CACHE_MAX_AGE_MS = 600_000;

type Mode = 'ok' | '500' | 'hang';

/** A JWKS endpoint whose answer a test switches; counts requests, holds hanging ones until released. */
async function startJwks(jwk: Record<string, unknown>) {
  const state = { mode: 'ok' as Mode, requests: 0, hanging: [] as ServerResponse[], arrived: [] as Array<() => void> };
  const server: Server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    state.requests += 1;
    state.arrived.splice(0).forEach((notify) => notify());
    if (state.mode === 'hang') return void state.hanging.push(res);
    if (state.mode === '500') return void res.writeHead(500).end('{"error":"down"}');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  const url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}/jwks`;
  return {
    url,
    state,
    /** Resolves when the next request reaches the endpoint. */
    nextRequest: () => new Promise<void>((resolve) => state.arrived.push(resolve)),
    stop: () =>
      new Promise<void>((resolve) => {
        state.hanging.splice(0).forEach((res) => res.destroy());
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A logger whose lines the test reads back. */
function capturedLogger() {
  const lines: Array<{ level: string; msg: string; reason?: string }> = [];
  const logger = createLogger({ service: 'test', level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  return { logger, lines, warnings: () => lines.filter((line) => line.level === 'warn') };
}

async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} is not registered`);
  const { values } = await metric.get();
  return values.filter((value) => Object.entries(labels).every(([k, v]) => value.labels[k] === v)).reduce((sum, value) => sum + value.value, 0);
}

describe('JWKS stale-if-error', () => {
  let key: { privateKey: KeyLike; jwk: Record<string, unknown> };
  let clock: number;
  const sign = (kid = 'k1') =>
    new SignJWT({ scope: 'a' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(issuer)
      .setAudience('trellis')
      .setSubject('u1')
      .setIssuedAt(Math.floor(clock / 1000))
      .setExpirationTime(Math.floor(clock / 1000) + 24 * 3600)
      .sign(key.privateKey);

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    key = { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' } };
  });
  beforeEach(() => {
    clock = Date.now();
  });

  const setUp = (url: string, timeoutMs = 3000) => {
    const registry = new Registry();
    const log = capturedLogger();
    // random 0: no jitter, so the backoff waits are exactly 1 s, 2 s, 4 s…
    const keySet = new RemoteKeySet({ url, timeoutMs, cacheMaxAgeMs: CACHE_MAX_AGE_MS, cooldownMs: 30_000, now: () => clock, random: () => 0, logger: log.logger, registry });
    const verifier = createTokenVerifier(settings(url), { keys: keySet.getKey, now: () => clock, cacheSize: 0 });
    return { registry, log, keySet, verifier };
  };

  it('keeps verifying while the JWKS answers 500 past the cache age: logged once, counted, refetched with backoff, refreshed when it answers', async () => {
    const jwks = await startJwks(key.jwk);
    try {
      const { registry, log, keySet, verifier } = setUp(jwks.url);
      expect(await verifier.verify(await sign())).toEqual({ id: 'u1', scopes: ['a'] });
      expect(jwks.state.requests).toBe(1);

      jwks.state.mode = '500';
      clock += CACHE_MAX_AGE_MS + 1; // beyond the cache age: today this was a total auth outage
      expect(await verifier.verify(await sign())).toEqual({ id: 'u1', scopes: ['a'] });
      await keySet.settled();
      expect(jwks.state.requests).toBe(2);
      expect(await counter(registry, 'trellis_auth_jwks_refresh_failures_total', { reason: 'status' })).toBe(1);

      // Backoff: no new fetch before 1 s, one at 1 s, then none before 2 s more.
      clock += 999;
      await verifier.verify(await sign());
      await keySet.settled();
      expect(jwks.state.requests).toBe(2);
      clock += 1;
      await verifier.verify(await sign());
      await keySet.settled();
      expect(jwks.state.requests).toBe(3);
      clock += 1999;
      await verifier.verify(await sign());
      await keySet.settled();
      expect(jwks.state.requests).toBe(3);
      clock += 1;
      await verifier.verify(await sign());
      await keySet.settled();
      expect(jwks.state.requests).toBe(4);

      expect(await counter(registry, 'trellis_auth_jwks_refresh_failures_total', { reason: 'status' })).toBe(3);
      expect(await counter(registry, 'trellis_auth_jwks_stale_verifications_total')).toBe(4); // every verification after the outage began
      expect(log.warnings().map((line) => line.msg)).toEqual(['JWKS endpoint failed; verifying with the last good signing keys until it answers']);

      jwks.state.mode = 'ok';
      clock += 4000;
      await verifier.verify(await sign());
      await keySet.settled();
      expect(jwks.state.requests).toBe(5);
      expect(keySet.isStale()).toBe(false);
      expect(log.lines.filter((line) => line.level === 'info').map((line) => line.msg)).toEqual(['JWKS endpoint answers again; signing keys refreshed']);
      // A second outage is logged again, once.
      jwks.state.mode = '500';
      clock += CACHE_MAX_AGE_MS;
      await verifier.verify(await sign());
      await keySet.settled();
      expect(log.warnings()).toHaveLength(2);
    } finally {
      await jwks.stop();
    }
  });

  it('keeps verifying while the JWKS endpoint is unreachable (stopped)', async () => {
    const jwks = await startJwks(key.jwk);
    const { registry, log, keySet, verifier } = setUp(jwks.url);
    await verifier.verify(await sign());
    await jwks.stop();
    clock += CACHE_MAX_AGE_MS;
    expect(await verifier.verify(await sign())).toEqual({ id: 'u1', scopes: ['a'] });
    await keySet.settled();
    expect(await counter(registry, 'trellis_auth_jwks_refresh_failures_total', { reason: 'unreachable' })).toBe(1);
    expect(log.warnings()).toHaveLength(1);
    expect(log.warnings()[0].reason).toBe('unreachable');
  });

  it('a hanging JWKS never holds a verification that has keys; the hung fetch fails at the timeout', async () => {
    const jwks = await startJwks(key.jwk);
    try {
      const { registry, keySet, verifier } = setUp(jwks.url, 200);
      await verifier.verify(await sign());
      jwks.state.mode = 'hang';
      clock += CACHE_MAX_AGE_MS;
      const arrived = jwks.nextRequest();
      const verified = verifier.verify(await sign());
      await arrived; // the background fetch is at the endpoint, unanswered…
      expect(await verified).toEqual({ id: 'u1', scopes: ['a'] }); // …and the token was verified all the same
      await keySet.settled();
      expect(await counter(registry, 'trellis_auth_jwks_refresh_failures_total', { reason: 'timeout' })).toBe(1);
    } finally {
      await jwks.stop();
    }
  });

  it('with no keys ever fetched and the JWKS hanging, refuses within AUTH_JWKS_TIMEOUT_MS (measured) with a retriable error', async () => {
    const jwks = await startJwks(key.jwk);
    jwks.state.mode = 'hang';
    try {
      const { verifier } = setUp(jwks.url, 300);
      const started = performance.now();
      const refused = await verifier.verify(await sign()).catch((error: unknown) => error);
      const elapsed = performance.now() - started;
      expect(refused).toBeInstanceOf(SigningKeysUnavailableError);
      expect(refused).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retriable: true, httpStatus: 503, message: expect.stringContaining('no answer within 300 ms') });
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(2000);
    } finally {
      await jwks.stop();
    }
  });

  it('with no keys ever fetched and the JWKS answering 500, refuses at once and does not fetch again before the backoff', async () => {
    const jwks = await startJwks(key.jwk);
    jwks.state.mode = '500';
    try {
      const { verifier } = setUp(jwks.url);
      await expect(verifier.verify(await sign())).rejects.toThrow("token cannot be verified now: the issuer's signing keys are unavailable (answered HTTP 500); retry later");
      await expect(verifier.verify(await sign())).rejects.toThrow(/next attempt in 1000 ms/);
      expect(jwks.state.requests).toBe(1);
      jwks.state.mode = 'ok';
      clock += 1000;
      expect(await verifier.verify(await sign())).toEqual({ id: 'u1', scopes: ['a'] });
      expect(jwks.state.requests).toBe(2);
    } finally {
      await jwks.stop();
    }
  });
});
