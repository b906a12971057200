/**
 * Rate limits per client on rate-limiter-flexible, behind a small port. The backends choose the
 * store once at start-up (`Backends.rateLimiter(policy)`): Redis when REDIS_URL is set, the dev
 * hub's shared store under `npm start`, else this process's memory.
 *
 * ```ts
 * const limiter = new FailOpenRateLimiter(backends.rateLimiter({ name: 'gateway', limit: 100, windowSec: 60 }), { logger });
 * const verdict = await limiter.check(clientKey(user?.id, req.socket.remoteAddress));
 * ```
 */
export * from './types';
export { FailOpenRateLimiter, type FailOpenOptions, type RateLimitVerdict } from './failOpen';
export { clientKey } from './clientKey';
export { rateLimitHeaders, retryAfterSeconds } from './headers';
export { memoryRateLimiter } from './memory';
export { stateStoreRateLimiter } from './stateStore';
export { fromFlexible, flexibleOptions } from './flexible';
export { rateLimitMetrics, type RateLimitMetrics } from './metrics';
