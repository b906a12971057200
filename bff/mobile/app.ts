/** The mobile BFF: compact reads with cursors and ETags, persisted operations only, orders with SSE progress. */
import type { Config, Logger, StateStore } from '@trellis/kit';
import type { RateLimiterFactory } from '@trellis/kit';
import { BffServer, createBffApp, createBffServices, finishBffApp } from '../shared';
import { bearerCaller } from './caller';
import { persistedGraphql } from './graphql';
import { orderRoutes } from './orders';
import { loadPersistedOperations } from './persistedOperations';
import { readRoutes } from './reads';
import { openApiRoute } from './openapi';

export interface MobileBffOptions {
  config: Config;
  logger: Logger;
  state: StateStore;
  /** Where responses are cached (`Backends.cache`); defaults to `state`. */
  cache?: StateStore;
  /** Where the rate limit counts (`Backends.rateLimiter`); defaults to `cache`. */
  rateLimiter?: RateLimiterFactory;
}

/** Throws ConfigError when the persisted operations manifest is missing or broken. */
export function createMobileBff({ config, logger, state, cache, rateLimiter }: MobileBffOptions): BffServer {
  const operations = loadPersistedOperations(config.bff.persistedOperationsPath);
  const services = createBffServices({ app: 'mobile', config, logger, state, cache, rateLimiter });
  const app = createBffApp({ app: 'mobile', logger, registry: services.registry, isReady: () => server.isReady() });
  // Before the caller and the rate limit: the description is public and static.
  app.use(openApiRoute());
  app.use(bearerCaller(services.verifier));
  app.use(services.rateLimit);
  app.use(readRoutes(services));
  const orders = orderRoutes(services);
  app.use(orders.router);
  app.use(persistedGraphql(services, operations));
  finishBffApp(app, logger);

  const server = new BffServer(app, { name: 'mobile BFF', host: config.http.host, graceMs: config.shutdownGraceMs, logger, timeouts: config.http.timeouts });
  server.onStop(orders.close);
  server.onStop(() => services.gateway.close());
  return server;
}
