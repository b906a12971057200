/** A limiter counting in this process (rate-limiter-flexible's RateLimiterMemory): one process, or tests. */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { flexibleOptions, fromFlexible } from './flexible';
import type { RateLimiter, RateLimitPolicy } from './types';

export function memoryRateLimiter(policy: RateLimitPolicy): RateLimiter {
  return fromFlexible(policy, new RateLimiterMemory(flexibleOptions(policy, policy.name)));
}
