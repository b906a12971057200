/**
 * The gateway's rate limit on the memory limiter: per verified identity, else per address; the
 * RateLimit fields on every counted answer; over the limit a 429 RATE_LIMITED with Retry-After;
 * a failing store lets the request through and is counted.
 */
import { Registry } from 'prom-client';
import { GraphQLError } from 'graphql';
import { memoryRateLimiter, rateLimitMetrics, RateLimitStoreError, type RateLimiter } from '@trellis/kit/internal/ratelimit';
import { createLogger } from '@trellis/kit';
import type { GatewayContext } from '../../../../gateway/context';
import { rateLimit, RateLimitedError } from '../../../../gateway/ratelimit';

const logger = createLogger({ service: 'test', level: 'silent' });
const policy = { name: 'gateway', limit: 2, windowSec: 60 };

const contextOf = (user: string | null, clientAddress = '10.0.0.1'): GatewayContext => ({
  correlationId: 'c',
  logger,
  forwardHeaders: {},
  clientAddress,
  user: user ? { id: user, scopes: [] } : null,
});

function gatewayLimit(limiter: RateLimiter = memoryRateLimiter(policy)) {
  const registry = new Registry();
  const extension = rateLimit({ limiter, logger, metrics: rateLimitMetrics(registry) });
  const run = async (context: GatewayContext) => {
    await extension.extendContext!(() => undefined, context);
    return context;
  };
  const counter = async (name: string) => {
    const metric = registry.getSingleMetric(name);
    if (!metric) throw new Error(`${name} is not registered`);
    const value = (await metric.get()).values.find((v) => v.labels.policy === 'gateway');
    if (!value) throw new Error(`${name} has no value for policy gateway`);
    return value.value;
  };
  return { run, counter, registry };
}

async function refusal(promise: Promise<unknown>): Promise<RateLimitedError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof RateLimitedError)) throw new Error(`expected a RateLimitedError, got ${String(error)}`);
  return error;
}

describe('gateway rate limit', () => {
  beforeEach(() => jest.useFakeTimers({ now: 5_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('lets exactly the limit through with the RateLimit fields, then refuses with 429 and Retry-After', async () => {
    const { run, counter, registry } = gatewayLimit();
    expect((await run(contextOf(null))).responseHeaders).toEqual({ 'ratelimit-policy': '"gateway";q=2;w=60', ratelimit: '"gateway";r=1;t=60' });
    jest.advanceTimersByTime(15_500);
    expect((await run(contextOf(null))).responseHeaders).toEqual({ 'ratelimit-policy': '"gateway";q=2;w=60', ratelimit: '"gateway";r=0;t=45' });
    const context = contextOf(null);
    const error = await refusal(run(context));
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.name).toBe('RateLimitedError');
    expect(error.message).toBe('more than 2 requests in 60 s from this client; retry in 45 s');
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retriable: true });
    expect(error.extensions.code).toBe('RATE_LIMITED');
    expect(error.extensions.retryAfter).toBe(45);
    const http = error.extensions.http as { status: number; headers: Map<string, string> };
    expect(http.status).toBe(429);
    expect(Object.fromEntries(http.headers)).toEqual({ 'ratelimit-policy': '"gateway";q=2;w=60', ratelimit: '"gateway";r=0;t=45', 'retry-after': '45' });
    expect(context.responseHeaders).toEqual({ 'ratelimit-policy': '"gateway";q=2;w=60', ratelimit: '"gateway";r=0;t=45' });
    expect(await counter('trellis_rate_limited_total')).toBe(1);
    expect(await registry.metrics()).toContain('# HELP trellis_rate_limited_total Requests refused by a rate limit');
  });

  it('counts a verified caller by identity, wherever it calls from, apart from the address it shares', async () => {
    const { run } = gatewayLimit();
    await run(contextOf('u1', '10.0.0.1'));
    await run(contextOf('u1', '10.0.0.2'));
    await refusal(run(contextOf('u1', '10.0.0.3')));
    // Anonymous callers on the same address, and another user, each have their own full count.
    expect((await run(contextOf(null, '10.0.0.1'))).responseHeaders?.ratelimit).toBe('"gateway";r=1;t=60');
    expect((await run(contextOf('u2', '10.0.0.1'))).responseHeaders?.ratelimit).toBe('"gateway";r=1;t=60');
  });

  it('counts anonymous callers by address, each address apart', async () => {
    const { run } = gatewayLimit();
    await run(contextOf(null, '10.0.0.1'));
    await run(contextOf(null, '10.0.0.1'));
    await refusal(run(contextOf(null, '10.0.0.1')));
    expect((await run(contextOf(null, '10.0.0.9'))).responseHeaders?.ratelimit).toBe('"gateway";r=1;t=60');
  });

  it('passes again once the window has ended', async () => {
    const { run } = gatewayLimit();
    await run(contextOf('u1'));
    await run(contextOf('u1'));
    await refusal(run(contextOf('u1')));
    jest.advanceTimersByTime(60_000);
    expect((await run(contextOf('u1'))).responseHeaders?.ratelimit).toBe('"gateway";r=1;t=60');
  });

  it('is named rate-limit (in start-up errors about clashing extensions)', () => {
    expect(rateLimit({ limiter: memoryRateLimiter(policy), logger }).name).toBe('rate-limit');
  });

  it('keeps headers other extensions set', async () => {
    const { run } = gatewayLimit();
    const context = { ...contextOf('u1'), responseHeaders: { 'x-other': 'kept' } };
    expect((await run(context)).responseHeaders).toMatchObject({ 'x-other': 'kept', ratelimit: '"gateway";r=1;t=60' });
  });

  it('counts each operation admitted on a connection against the same caller, refusing the one over the limit', async () => {
    const extension = rateLimit({ limiter: memoryRateLimiter(policy), logger });
    const admit = (context: GatewayContext) => extension.admitOperation!(context);
    const connection = contextOf('u1');
    await admit(connection);
    await admit(connection);
    const error = await refusal(Promise.resolve(admit(connection)));
    expect(error.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 60 });
    // A connection's context is shared by its operations: no answer fields are written on it.
    expect(connection.responseHeaders).toBeUndefined();
    // The same count as the caller's other requests.
    const limited = rateLimit({ limiter: memoryRateLimiter(policy), logger });
    await limited.admitOperation!(contextOf('u1'));
    await limited.extendContext!(() => undefined, contextOf('u1'));
    await refusal(Promise.resolve(limited.admitOperation!(contextOf('u1'))));
    await refusal(Promise.resolve(limited.extendContext!(() => undefined, contextOf('u1'))));
  });

  it('counts a refused operation in trellis_rate_limited_total, and lets operations through when the store fails', async () => {
    const registry = new Registry();
    const metrics = rateLimitMetrics(registry);
    const extension = rateLimit({ limiter: memoryRateLimiter({ ...policy, limit: 1 }), logger, metrics });
    await extension.admitOperation!(contextOf('u1'));
    await refusal(Promise.resolve(extension.admitOperation!(contextOf('u1'))));
    expect((await metrics.refused.get()).values).toEqual([expect.objectContaining({ labels: { policy: 'gateway' }, value: 1 })]);
    const broken: RateLimiter = { policy, consume: () => Promise.reject(new RateLimitStoreError('gateway', new Error('redis down'))) };
    const open = rateLimit({ limiter: broken, logger, metrics });
    await expect(Promise.resolve(open.admitOperation!(contextOf('u1')))).resolves.toBeUndefined();
  });

  it('lets requests through without rate limit fields when the store fails, counting each', async () => {
    const broken: RateLimiter = { policy, consume: () => Promise.reject(new RateLimitStoreError('gateway', new Error('redis down'))) };
    const { run, counter, registry } = gatewayLimit(broken);
    for (let i = 0; i < 3; i++) expect((await run(contextOf('u1'))).responseHeaders).toBeUndefined();
    expect(await counter('trellis_rate_limit_store_failures_total')).toBe(3);
    expect(await registry.metrics()).toContain('# HELP trellis_rate_limit_store_failures_total Requests let through because the rate limit store failed');
  });
});
