/** The IETF draft RateLimit fields, Retry-After, and whom a request counts against. */
import { Registry } from 'prom-client';
import { clientKey, rateLimitHeaders, rateLimitMetrics, retryAfterSeconds } from '@trellis/kit/internal/ratelimit';

describe('rate limit headers', () => {
  const policy = { name: 'gateway', limit: 100, windowSec: 60 };

  it('states the quota and window, and what is left with the seconds to reset (rounded up)', () => {
    expect(rateLimitHeaders(policy, { allowed: true, remaining: 42, resetMs: 16_001 })).toEqual({
      'ratelimit-policy': '"gateway";q=100;w=60',
      ratelimit: '"gateway";r=42;t=17',
    });
    expect(rateLimitHeaders(policy, { allowed: false, remaining: 0, resetMs: 0 }).ratelimit).toBe('"gateway";r=0;t=0');
  });

  it.each([
    [0, 1],
    [1, 1],
    [1000, 1],
    [1001, 2],
    [59_500, 60],
  ])('Retry-After for %i ms left is %i s', (resetMs, seconds) => {
    expect(retryAfterSeconds({ allowed: false, remaining: 0, resetMs })).toBe(seconds);
  });

  it('counts a verified caller by identity, anyone else by address', () => {
    expect(clientKey('u1', '10.0.0.1')).toBe('user:u1');
    expect(clientKey(undefined, '10.0.0.1')).toBe('ip:10.0.0.1');
    expect(clientKey('', '10.0.0.1')).toBe('ip:10.0.0.1');
    expect(clientKey(undefined, undefined)).toBe('ip:unknown');
  });
});

describe('rate limit metrics', () => {
  it('are the same counters for every limiter on one registry (the gateway and a BFF may share one)', async () => {
    const registry = new Registry();
    const first = rateLimitMetrics(registry);
    const second = rateLimitMetrics(registry);
    expect(second.refused).toBe(first.refused);
    expect(second.storeFailures).toBe(first.storeFailures);
    second.refused.inc({ policy: 'gateway' });
    expect((await first.refused.get()).values).toEqual([expect.objectContaining({ labels: { policy: 'gateway' }, value: 1 })]);
  });
});
