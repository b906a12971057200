/** The web BFF: session cookie to token, page endpoints, orders with progress over WebSocket, `/graphql` passthrough. */
import type { Config, Logger, StateStore } from '@trellis/kit';
import type { RateLimiterFactory } from '@trellis/kit';
import { BffServer, createBffApp, createBffServices, finishBffApp } from '../shared';
import { graphqlPassthrough } from './graphql';
import { orderRoutes, serveOrderProgress } from './orders';
import { pageRoutes } from './pages';
import { SessionStore } from './session';
import { sessionRoutes } from './sessionRoutes';
import { devSignInRoutes } from './devSignIn';
import { loadStorefront } from './storefront/bundle';
import { storefrontRoutes } from './storefront/routes';

export interface WebBffOptions {
  config: Config;
  logger: Logger;
  state: StateStore;
  /** Where responses are cached (`Backends.cache`); defaults to `state`. */
  cache?: StateStore;
  /** Where the rate limit counts (`Backends.rateLimiter`); defaults to `cache`. */
  rateLimiter?: RateLimiterFactory;
}

export function createWebBff({ config, logger, state, cache, rateLimiter }: WebBffOptions): BffServer {
  const services = createBffServices({ app: 'web', config, logger, state, cache, rateLimiter });
  const sessions = new SessionStore({ state, verifier: services.verifier, ttlMs: config.bff.sessionTtlMs, secureCookie: config.isProduction });
  const app = createBffApp({ app: 'web', logger, registry: services.registry, isReady: () => server.isReady() });
  app.use('/api', (_req, res, next) => {
    res.setHeader('cache-control', 'no-store'); // answers may be personal: no shared cache keeps them
    next();
  });
  app.use(sessions.middleware());
  app.use(services.rateLimit);
  app.use(sessionRoutes(sessions));
  app.use(devSignInRoutes(sessions, { issuer: config.isProduction ? undefined : config.auth?.issuer, timeoutMs: config.bff.gatewayTimeoutMs }));
  app.use(pageRoutes(services));
  app.use(orderRoutes(services));
  app.use(graphqlPassthrough(services));
  app.use(storefrontRoutes(loadStorefront()));
  finishBffApp(app, logger);

  const server = new BffServer(app, { name: 'web BFF', host: config.http.host, graceMs: config.shutdownGraceMs, logger, timeouts: config.http.timeouts });
  server.onStop(serveOrderProgress(server.httpServer, services, sessions));
  server.onStop(() => services.gateway.close());
  return server;
}
