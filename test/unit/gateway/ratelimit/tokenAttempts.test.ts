/**
 * Refused tokens count against their address on the gateway's limiter; once the address has
 * nothing left in its window, its tokens are refused before verification (a map lookup), with
 * RATE_LIMITED and the time left, until the window ends.
 */
import { Registry } from 'prom-client';
import { memoryRateLimiter, rateLimitMetrics, RateLimitStoreError, type RateLimiter } from '@trellis/kit/internal/ratelimit';
import { createLogger } from '@trellis/kit';
import { RateLimitedError, tokenAttempts } from '../../../../gateway/ratelimit';

const logger = createLogger({ service: 'test', level: 'silent' });
const policy = { name: 'gateway', limit: 3, windowSec: 60 };

function attemptsOn(limiter: RateLimiter = memoryRateLimiter(policy), maxRemembered?: number) {
  const registry = new Registry();
  const metrics = rateLimitMetrics(registry);
  return { attempts: tokenAttempts({ limiter, logger, metrics, now: () => Date.now(), maxRemembered }), metrics, limiter };
}

function refusedBy(action: () => void): RateLimitedError {
  try {
    action();
  } catch (error) {
    if (error instanceof RateLimitedError) return error;
    throw error;
  }
  throw new Error('expected a RateLimitedError');
}

describe('tokenAttempts', () => {
  beforeEach(() => jest.useFakeTimers({ now: 7_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('admits an address until its refused tokens use up its count, then refuses its tokens unverified until the window ends', async () => {
    const { attempts, metrics } = attemptsOn();
    attempts.admit('10.0.0.1');
    await expect(attempts.refused('10.0.0.1')).resolves.toBeUndefined();
    attempts.admit('10.0.0.1');
    await expect(attempts.refused('10.0.0.1')).resolves.toBeUndefined();
    attempts.admit('10.0.0.1');
    jest.advanceTimersByTime(20_400);
    // The third uses up the count: answered as the bad token it is, and the next is refused before verifying.
    await expect(attempts.refused('10.0.0.1')).resolves.toBeUndefined();
    const error = refusedBy(() => attempts.admit('10.0.0.1'));
    expect(error.message).toBe('more than 3 requests in 60 s from this client; retry in 40 s');
    expect(error.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 40 });
    const http = error.extensions.http as { status: number; headers: Map<string, string> };
    expect(http.status).toBe(429);
    expect(Object.fromEntries(http.headers)).toEqual({ 'ratelimit-policy': '"gateway";q=3;w=60', ratelimit: '"gateway";r=0;t=40', 'retry-after': '40' });
    expect((await metrics.refused.get()).values).toEqual([expect.objectContaining({ labels: { policy: 'gateway' }, value: 1 })]);
    // Still refused until the very end of the window, then admitted and forgotten.
    jest.advanceTimersByTime(39_599);
    expect(refusedBy(() => attempts.admit('10.0.0.1')).extensions.retryAfter).toBe(1);
    jest.advanceTimersByTime(1);
    expect(() => attempts.admit('10.0.0.1')).not.toThrow();
  });

  it('answers RATE_LIMITED for a refused token that went over the limit (another process, or anonymous requests, used the count up)', async () => {
    const { attempts, limiter } = attemptsOn();
    for (let i = 0; i < 3; i++) await limiter.consume('ip:10.0.0.2');
    const error = await attempts.refused('10.0.0.2');
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 60 });
    expect(() => attempts.admit('10.0.0.2')).toThrow(RateLimitedError);
  });

  it('counts on the key anonymous requests from the address use, each address apart', async () => {
    const { attempts, limiter } = attemptsOn();
    await attempts.refused('10.0.0.3');
    expect(await limiter.consume('ip:10.0.0.3')).toMatchObject({ allowed: true, remaining: 1 });
    for (let i = 0; i < 3; i++) await attempts.refused('10.0.0.4');
    expect(() => attempts.admit('10.0.0.4')).toThrow(RateLimitedError);
    expect(() => attempts.admit('10.0.0.3')).not.toThrow();
    // No address known: one shared key, as the rate limit counts such requests.
    for (let i = 0; i < 3; i++) await attempts.refused(undefined);
    expect(() => attempts.admit(undefined)).toThrow(RateLimitedError);
    expect(await limiter.consume('ip:unknown')).toMatchObject({ allowed: false });
  });

  it('lets tokens through to verification when the store fails, remembering nothing and counting the failure', async () => {
    const broken: RateLimiter = { policy, consume: () => Promise.reject(new RateLimitStoreError('gateway', new Error('redis down'))) };
    const { attempts, metrics } = attemptsOn(broken);
    for (let i = 0; i < 5; i++) await expect(attempts.refused('10.0.0.5')).resolves.toBeUndefined();
    expect(() => attempts.admit('10.0.0.5')).not.toThrow();
    expect((await metrics.storeFailures.get()).values).toEqual([expect.objectContaining({ labels: { policy: 'gateway' }, value: 5 })]);
  });

  it('remembers at most maxRemembered addresses, forgetting the one remembered longest ago', async () => {
    const { attempts } = attemptsOn(memoryRateLimiter({ ...policy, limit: 1 }), 2);
    await attempts.refused('10.0.1.1');
    await attempts.refused('10.0.1.2');
    // Remembered again: now the newest, so 10.0.1.2 is the oldest.
    await attempts.refused('10.0.1.1');
    await attempts.refused('10.0.1.3');
    expect(() => attempts.admit('10.0.1.2')).not.toThrow();
    expect(() => attempts.admit('10.0.1.1')).toThrow(RateLimitedError);
    expect(() => attempts.admit('10.0.1.3')).toThrow(RateLimitedError);
  });
});
