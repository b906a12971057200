/** What both BFFs are built from, made once from config: metrics, gateway client, token verifier, cache, rate limit. */
import type { RequestHandler } from 'express';
import { createMetricsRegistry, createTokenVerifier, stateStoreRateLimiter, type RateLimiterFactory, type Config, type KeepAliveSettings, type Logger, type Registry, type StateStore, type TokenVerifier } from '@trellis/kit';
import { createGatewayClient, type GatewayClient } from './gatewayClient';
import { rateLimit } from './rateLimit';
import { createResponseCache, type ResponseCache } from './responseCache';

export interface BffServices {
  app: string;
  config: Config;
  logger: Logger;
  state: StateStore;
  registry: Registry;
  gateway: GatewayClient;
  /** Undefined when no token issuer is configured. */
  verifier?: TokenVerifier;
  cache: ResponseCache;
  rateLimit: RequestHandler;
  /** Keep-alive of the saga progress subscriptions to the gateway (UPSTREAM_WS_*), logging a gateway given up for dead. */
  progressKeepAlive: KeepAliveSettings;
}

export interface BffServicesOptions {
  app: 'web' | 'mobile';
  config: Config;
  logger: Logger;
  state: StateStore;
  /** Where responses are cached (`Backends.cache`); defaults to `state`. */
  cache?: StateStore;
  /** The backends' rate limiters (`Backends.rateLimiter`); without it, counts are kept in `cache`. */
  rateLimiter?: RateLimiterFactory;
}

export function createBffServices({ app, config, logger, state, cache = state, rateLimiter }: BffServicesOptions): BffServices {
  const limiterFor = rateLimiter ?? ((policy) => stateStoreRateLimiter(cache, policy, `ratelimit:${policy.name}`));
  const registry = createMetricsRegistry(`${app}-bff`);
  const { timeoutMs: _unused, ...breaker } = config.resilience.breaker;
  void _unused;
  return {
    app,
    config,
    logger,
    state,
    registry,
    gateway: createGatewayClient({ url: config.gateway.url, timeoutMs: config.bff.gatewayTimeoutMs, breaker, logger, registry }),
    verifier: config.auth ? createTokenVerifier(config.auth) : undefined,
    cache: createResponseCache({ app, state: cache, ttlMs: config.bff.cacheTtlMs, logger, registry }),
    rateLimit: rateLimit({ limiter: limiterFor({ name: `${app}-bff`, limit: config.bff.rateLimitPerMinute, windowSec: 60 }), logger, registry }),
    progressKeepAlive: {
      ...config.deadlines.upstreamWs,
      onDeadPeer: () => logger.warn({ pongTimeoutMs: config.deadlines.upstreamWs.pongTimeoutMs }, 'the gateway did not answer a ping; the saga progress subscription was terminated'),
    },
  };
}
