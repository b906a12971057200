/** A failing store lets requests through, counts each, and warns at most once per interval with how many passed. */
import { FailOpenRateLimiter, memoryRateLimiter, RateLimitStoreError, type RateLimiter } from '@trellis/kit/internal/ratelimit';
import type { Logger } from '@trellis/kit/internal/logging';

const policy = { name: 'gw', limit: 2, windowSec: 60 };
const brokenLimiter = (error: unknown = new RateLimitStoreError('gw', new Error('down'))): RateLimiter => ({ policy, consume: () => Promise.reject(error) });

function recordingLogger() {
  const warnings: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const logger = { warn: (fields: Record<string, unknown>, message: string) => warnings.push({ fields, message }) } as unknown as Logger;
  return { logger, warnings };
}

describe('FailOpenRateLimiter', () => {
  it('passes the decision of a working store through', async () => {
    const { logger, warnings } = recordingLogger();
    const limiter = new FailOpenRateLimiter(memoryRateLimiter(policy), { logger });
    expect(await limiter.check('k')).toEqual({ allowed: true, remaining: 1, resetMs: 60_000, storeFailed: false });
    await limiter.check('k');
    expect(await limiter.check('k')).toMatchObject({ allowed: false, remaining: 0, storeFailed: false });
    expect(warnings).toEqual([]);
  });

  it('lets every request through while the store fails, and reports each failure', async () => {
    const { logger } = recordingLogger();
    const failures: RateLimitStoreError[] = [];
    const limiter = new FailOpenRateLimiter(brokenLimiter(), { logger, onStoreFailure: (error) => failures.push(error) });
    for (let i = 0; i < 5; i++) expect(await limiter.check('k')).toEqual({ allowed: true, storeFailed: true });
    expect(failures).toHaveLength(5);
    expect(failures[0].message).toBe('rate limit store: gw: down');
  });

  it('wraps a stray error from a limiter as a RateLimitStoreError', async () => {
    const { logger } = recordingLogger();
    const failures: RateLimitStoreError[] = [];
    const limiter = new FailOpenRateLimiter(brokenLimiter(new Error('odd')), { logger, onStoreFailure: (error) => failures.push(error) });
    await limiter.check('k');
    expect(failures[0]).toBeInstanceOf(RateLimitStoreError);
    expect(failures[0].message).toBe('rate limit store: gw: odd');
  });

  it('warns on the first failure, then at most once per interval, with the count let through since the last warning', async () => {
    const { logger, warnings } = recordingLogger();
    let now = 50_000;
    const limiter = new FailOpenRateLimiter(brokenLimiter(), { logger, logIntervalMs: 1000, now: () => now });
    await limiter.check('k');
    now += 999;
    await limiter.check('k');
    await limiter.check('k');
    expect(warnings).toHaveLength(1);
    now += 1;
    await limiter.check('k');
    expect(warnings.map((w) => w.fields.letThrough)).toEqual([1, 3]);
    expect(warnings[1]).toEqual({ fields: { err: 'rate limit store: gw: down', policy: 'gw', letThrough: 3 }, message: 'rate limit store unavailable; requests let through' });
  });

  it('warns once per 10 s by default', async () => {
    const { logger, warnings } = recordingLogger();
    let now = 0;
    const limiter = new FailOpenRateLimiter(brokenLimiter(), { logger, now: () => now });
    await limiter.check('k');
    now = 9_999;
    await limiter.check('k');
    now = 10_000;
    await limiter.check('k');
    expect(warnings.map((w) => w.fields.letThrough)).toEqual([1, 2]);
  });
});
