/** The BFFs' rate limit middleware on the memory limiter: by caller or address, RateLimit fields, 429 RATE_LIMITED with Retry-After, fail-open. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { Registry } from 'prom-client';
import { createLogger } from '@trellis/kit';
import { memoryRateLimiter, RateLimitStoreError, type RateLimiter } from '@trellis/kit/internal/ratelimit';
import { rateLimit } from '../../../bff/shared/rateLimit';
import { errorHandler } from '../../../bff/shared/errors';

const logger = createLogger({ service: 'test', level: 'silent' });
const policy = { name: 'web-bff', limit: 2, windowSec: 60 };

async function serve(limiter: RateLimiter) {
  const registry = new Registry();
  const app = express();
  // Stands in for the BFF's session / bearer middleware: `x-test-user` is the verified caller.
  app.use((req, res, next) => {
    const id = req.header('x-test-user');
    if (id) res.locals.caller = { id, scopes: [], token: 't' };
    next();
  });
  app.use(rateLimit({ limiter, logger, registry }));
  app.get('/ok', (_req, res) => void res.json({ ok: true }));
  app.use(errorHandler(logger));
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ok`;
  const counter = async (name: string) => {
    const metric = registry.getSingleMetric(name);
    if (!metric) throw new Error(`${name} is not registered`);
    const value = (await metric.get()).values.find((v) => v.labels.policy === 'web-bff');
    if (!value) throw new Error(`${name} has no value for web-bff`);
    return value.value;
  };
  return { url, counter, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('BFF rate limit', () => {
  let close: (() => Promise<void>) | undefined;
  // Only the clock stands still (the limiter reads Date.now); the server's timers and I/O run as usual.
  beforeEach(() =>
    jest.useFakeTimers({
      now: 7_000_000,
      doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'],
    }),
  );
  afterEach(async () => {
    await close?.();
    close = undefined;
    jest.useRealTimers();
  });

  it('lets exactly the limit through with the RateLimit fields, then answers 429 RATE_LIMITED with Retry-After', async () => {
    const server = await serve(memoryRateLimiter(policy));
    close = server.close;
    const first = await fetch(server.url);
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"web-bff";q=2;w=60');
    expect(first.headers.get('ratelimit')).toBe('"web-bff";r=1;t=60');
    jest.setSystemTime(7_000_000 + 20_500);
    expect((await fetch(server.url)).headers.get('ratelimit')).toBe('"web-bff";r=0;t=40');
    const refused = await fetch(server.url);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('40');
    expect(refused.headers.get('ratelimit')).toBe('"web-bff";r=0;t=40');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('RATE_LIMITED');
    expect(body.error.message).toBe('more than 2 requests in 60 s from this client; retry in 40 s');
    expect(await server.counter('trellis_rate_limited_total')).toBe(1);
  });

  it('hands the error handler a retriable 429 RATE_LIMITED error', async () => {
    const handler = rateLimit({ limiter: { policy, consume: async () => ({ allowed: false, remaining: 0, resetMs: 1500 }) }, logger });
    const passed: unknown[] = [];
    const res = { locals: {}, setHeader: () => undefined };
    await handler({ socket: { remoteAddress: '10.0.0.1' } } as never, res as never, (error?: unknown) => passed.push(error));
    expect(passed).toHaveLength(1);
    expect(passed[0]).toMatchObject({ status: 429, code: 'RATE_LIMITED', retriable: true, retryAfterSec: 2 });
  });

  it('counts a verified caller apart from the address it shares with anonymous callers', async () => {
    const server = await serve(memoryRateLimiter(policy));
    close = server.close;
    for (let i = 0; i < 2; i++) expect((await fetch(server.url, { headers: { 'x-test-user': 'u1' } })).status).toBe(200);
    expect((await fetch(server.url, { headers: { 'x-test-user': 'u1' } })).status).toBe(429);
    expect((await fetch(server.url)).status).toBe(200);
    expect((await fetch(server.url, { headers: { 'x-test-user': 'u2' } })).status).toBe(200);
  });

  it('lets requests through, without RateLimit fields, while the store fails, and counts each', async () => {
    const server = await serve({ policy, consume: () => Promise.reject(new RateLimitStoreError('web-bff', new Error('down'))) });
    close = server.close;
    for (let i = 0; i < 3; i++) {
      const response = await fetch(server.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit')).toBeNull();
    }
    expect(await server.counter('trellis_rate_limit_store_failures_total')).toBe(3);
  });
});
