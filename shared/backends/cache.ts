/**
 * The cache port: where what may be evicted lives (APQ, BFF response caches, rate-limit counts).
 * A Redis of its own when CACHE_REDIS_URL is set (an LRU instance), else the state store itself,
 * so caches work as before on every backend. Connected with the state port, never without it.
 */
import type { Config } from '../config';
import type { Logger } from '../logging';
import { RedisStateStore, type StateStore } from '../state';
import type { BackendKind } from './index';

export function cachePort(config: Config, logger: Logger, state: StateStore, stateKind: BackendKind | undefined): { store: StateStore; kind?: BackendKind } {
  const url = config.cache.redisUrl;
  if (!url) return { store: state, kind: stateKind };
  return { store: new RedisStateStore({ url, logger, commandTimeoutMs: config.redis.commandTimeoutMs, keyPrefix: config.redis.keyPrefix }), kind: 'real' };
}
