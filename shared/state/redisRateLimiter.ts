/**
 * The rate limiter of the Redis adapter: rate-limiter-flexible's RateLimiterRedis (one Lua script:
 * INCRBY with the window's expiry) on the state store's own connection, so it shares its command
 * timeout and its fail-fast while Redis is down.
 */
import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { RedisClient } from './redisConnection';
import { flexibleOptions, fromFlexible } from '../ratelimit/flexible';
import { RateLimitStoreError, type RateLimiter, type RateLimitPolicy } from '../ratelimit/types';

export function redisRateLimiter(client: RedisClient, policy: RateLimitPolicy, keyPrefix: string, assertReady: () => void): RateLimiter {
  const limiter = fromFlexible(policy, new RateLimiterRedis({ storeClient: client, ...flexibleOptions(policy, keyPrefix) }));
  return {
    policy,
    async consume(key) {
      try {
        assertReady();
      } catch (error) {
        throw new RateLimitStoreError(policy.name, error);
      }
      return limiter.consume(key);
    },
  };
}
