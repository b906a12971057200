/** What both BFFs are built from, made once from config: metrics, gateway client, token verifier, cache, rate limit. */
import type { RequestHandler } from 'express';
import { createMetricsRegistry, createTokenVerifier, type Config, type Logger, type Registry, type StateStore, type TokenVerifier } from '../../shared';
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
}

export interface BffServicesOptions {
  app: 'web' | 'mobile';
  config: Config;
  logger: Logger;
  state: StateStore;
}

export function createBffServices({ app, config, logger, state }: BffServicesOptions): BffServices {
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
    cache: createResponseCache({ app, state, ttlMs: config.bff.cacheTtlMs, logger, registry }),
    rateLimit: rateLimit({ app, state, limit: config.bff.rateLimitPerMinute, windowMs: 60_000, logger, registry }),
  };
}
