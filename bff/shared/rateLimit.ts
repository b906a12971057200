/**
 * Fixed-window rate limit per client (the verified identity, else the IP) in the StateStore, so
 * every instance of a BFF shares one count (Redis when REDIS_URL is set). Over the limit: 429 with
 * `Retry-After`. A store that fails lets the request through (logged): the limiter protects the
 * gateway, it must not become the outage.
 */
import type { RequestHandler } from 'express';
import { Counter } from 'prom-client';
import type { Logger, Registry, StateStore } from '../../shared';
import { singleMetric } from '../../shared/metrics';
import type { Caller } from './caller';
import { HttpError } from './errors';

export interface RateLimitOptions {
  app: string;
  state: StateStore;
  /** Requests allowed per client per window. */
  limit: number;
  windowMs: number;
  logger: Logger;
  registry?: Registry;
}

export function rateLimit(options: RateLimitOptions): RequestHandler {
  const { app, state, limit, windowMs, logger } = options;
  const refused = options.registry
    ? singleMetric(options.registry, 'trellis_bff_rate_limited_total', () => new Counter({ name: 'trellis_bff_rate_limited_total', help: 'Requests refused by the BFF rate limit', labelNames: ['app'], registers: [options.registry!] }))
    : undefined;
  return async (req, res, next) => {
    const caller = res.locals.caller as Caller | undefined;
    const client = caller ? `user:${caller.id}` : `ip:${req.socket.remoteAddress ?? 'unknown'}`;
    let counter;
    try {
      counter = await state.increment(`bff:${app}:rate:${client}`, windowMs);
    } catch (error) {
      logger.warn({ err: error, client }, 'rate limit store unavailable; request let through');
      return next();
    }
    const resetSec = Math.max(1, Math.ceil(counter.ttlMs / 1000));
    res.setHeader('ratelimit-limit', String(limit));
    res.setHeader('ratelimit-remaining', String(Math.max(0, limit - counter.count)));
    res.setHeader('ratelimit-reset', String(resetSec));
    if (counter.count <= limit) return next();
    refused?.inc({ app });
    next(new HttpError(429, 'RATE_LIMITED', `more than ${limit} requests in ${windowMs / 1000} s from this client; retry in ${resetSec} s`, { retryAfterSec: resetSec }));
  };
}
