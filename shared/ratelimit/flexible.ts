/**
 * Adapts a rate-limiter-flexible limiter to the port: it resolves a RateLimiterRes under the limit,
 * rejects with one over it, and rejects with an Error when its store failed.
 */
import { RateLimiterRes, type RateLimiterAbstract, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import { RateLimitStoreError, type RateLimitDecision, type RateLimiter, type RateLimitPolicy } from './types';

/** The library's options for a policy: `points` per `duration` seconds. */
export function flexibleOptions(policy: RateLimitPolicy, keyPrefix: string) {
  return { points: policy.limit, duration: policy.windowSec, keyPrefix };
}

export function fromFlexible(policy: RateLimitPolicy, limiter: RateLimiterAbstract | RateLimiterStoreAbstract): RateLimiter {
  const decision = (res: RateLimiterRes, allowed: boolean): RateLimitDecision => ({
    allowed,
    remaining: allowed ? res.remainingPoints : 0,
    resetMs: Math.max(0, res.msBeforeNext),
  });
  return {
    policy,
    async consume(key) {
      try {
        return decision(await limiter.consume(key), true);
      } catch (outcome) {
        if (outcome instanceof RateLimiterRes) return decision(outcome, false);
        throw new RateLimitStoreError(policy.name, outcome);
      }
    },
  };
}
