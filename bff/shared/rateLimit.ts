/**
 * Rate limit per client (the verified identity, else the IP) on the shared rate-limit port, so
 * every instance of a BFF shares one count (Redis when REDIS_URL is set). Answers carry
 * `RateLimit-Policy` / `RateLimit`; over the limit: 429 with `Retry-After`. A store that fails lets
 * the request through (logged, counted): the limiter protects the gateway, it must not become the outage.
 */
import type { RequestHandler } from 'express';
import { clientKey, FailOpenRateLimiter, rateLimitHeaders, rateLimitMetrics, retryAfterSeconds, type Logger, type RateLimiter, type Registry } from '@trellis/kit';
import type { Caller } from './caller';
import { HttpError } from './errors';

export interface RateLimitOptions {
  limiter: RateLimiter;
  logger: Logger;
  registry?: Registry;
}

export function rateLimit({ limiter, logger, registry }: RateLimitOptions): RequestHandler {
  const { policy } = limiter;
  const metrics = registry ? rateLimitMetrics(registry) : undefined;
  const guarded = new FailOpenRateLimiter(limiter, { logger, onStoreFailure: () => metrics?.storeFailures.inc({ policy: policy.name }) });
  return async (req, res, next) => {
    const caller = res.locals.caller as Caller | undefined;
    const verdict = await guarded.check(clientKey(caller?.id, req.socket.remoteAddress));
    if (verdict.storeFailed) return next();
    for (const [name, value] of Object.entries(rateLimitHeaders(policy, verdict))) res.setHeader(name, value);
    if (verdict.allowed) return next();
    metrics?.refused.inc({ policy: policy.name });
    const retryAfterSec = retryAfterSeconds(verdict);
    next(new HttpError(429, 'RATE_LIMITED', `more than ${policy.limit} requests in ${policy.windowSec} s from this client; retry in ${retryAfterSec} s`, { retryAfterSec, retriable: true }));
  };
}
