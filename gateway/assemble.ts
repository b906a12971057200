/**
 * Builds a gateway from config: the supergraph source, the data sources and the extensions, in
 * the order their hooks run. `main.ts` and the tests both start gateways through here.
 */
import type { Config } from '@trellis/kit';
import type { Logger } from '@trellis/kit';
import type { Backends } from '@trellis/kit';
import { createMetricsRegistry } from '@trellis/kit';
import { DiscoverySupergraphManager } from './supergraph/discoveryManager';
import { FileSupergraphSource } from './supergraph/fileSource';
import type { SupergraphSource } from './supergraph/types';
import type { GatewayExtension } from './extension';
import { GatewayServer } from './server';
import { DataSourceFactory, HttpClient } from './datasource';
import { checkSpans, GatewayMetrics, observability } from './observability';
import { admin } from './admin';
import { BreakerJournal, operatorConsole } from './console';
import { graphiql, noLandingPage } from './graphiql';
import { supergraphPublicationOf } from '@trellis/kit/internal';
import { subscriptions } from './subscriptions';
import { incrementalDelivery } from './incremental';
import { auth } from './auth';
import { planning } from './planning';
import { limits } from './limits';
import { persistedQueries } from './persisted';
import { httpSecurity } from './http-security';
import { SubgraphHeaders } from './headers';
import { rateLimit, tokenAttempts } from './ratelimit';
import { rateLimitMetrics } from '@trellis/kit';
import type { TokenVerifier } from '@trellis/kit';
import { EntityCache, entityCacheExtension } from './entityCache';
import { changeFeedExtensions } from './entityCache/changeFeedExtension';

export interface AssembleOptions {
  config: Config;
  logger: Logger;
  backends: Backends;
  /** A supergraph file to serve instead of discovery (static mode); defaults to SUPERGRAPH_PATH. */
  supergraphPath?: string;
  /** Verifies tokens instead of one built from `config.auth` (tests count its calls). */
  verifier?: TokenVerifier;
}

export interface AssembledGateway extends GatewayServer {
  readonly metrics: GatewayMetrics;
  readonly dataSources: DataSourceFactory;
  /** The entity cache (ENTITY_CACHE), which the change feed tells of changes. */
  readonly entityCache: EntityCache;
}

export async function assembleGateway({ config, logger, backends, supergraphPath, verifier }: AssembleOptions): Promise<AssembledGateway> {
  const path = supergraphPath ?? config.gateway.supergraphPath;
  const source: SupergraphSource = path
    ? new FileSupergraphSource({ path, logger })
    : new DiscoverySupergraphManager({
        discovery: backends.discovery,
        logger,
        sdlTimeoutMs: config.gateway.sdlTimeoutMs,
        allow: config.gateway.subgraphAllow,
        compositionTimeoutMs: config.deadlines.compositionTimeoutMs,
        // On Consul one gateway composes and all serve what it publishes; on the embedded ports each composes.
        publication: supergraphPublicationOf(backends.discovery, config.supergraphPublication),
      });
  // Spans (and trace-id exemplars) only when they are exported: off, no hook builds a span or its attributes.
  const tracing = config.telemetry !== undefined;
  const metrics = new GatewayMetrics(createMetricsRegistry('gateway', { exemplars: tracing }));
  const headers = new SubgraphHeaders(config.gateway.headerRules);
  const checks = checkSpans(tracing);
  const journal = new BreakerJournal();
  const http = new HttpClient({ allowH2: config.gateway.subgraphHttp2 });
  const entityCache = new EntityCache({ settings: config.entityCache, registry: metrics.registry, logger });
  const dataSources = new DataSourceFactory({
    settings: config.resilience,
    instances: source.instances,
    headers,
    logger,
    metrics,
    http,
    tracing,
    entityCache,
    onClient: (name, client) => journal.follow(name, client.breaker),
  });

  // Exported whether or not the limit is on, so a dashboard reads 0 refusals rather than no series.
  const rateLimitCounters = rateLimitMetrics(metrics.registry);
  const limiter = config.gateway.rateLimit ? backends.rateLimiter({ name: 'gateway', ...config.gateway.rateLimit }) : undefined;
  const federated = subscriptions({
    maxBodyBytes: config.limits.maxBodyBytes,
    maxTokens: config.limits.maxTokens,
    introspection: !config.isProduction,
    logger,
    tracing,
    caps: config.gateway.subscriptions,
    multipartHeartbeatMs: config.gateway.multipartHeartbeatMs,
    registry: metrics.registry,
    upstream: {
      keepAlive: config.deadlines.upstreamWs,
      onDeadPeer: (subgraph) => logger.warn({ subgraph, pongTimeoutMs: config.deadlines.upstreamWs.pongTimeoutMs }, `subgraph ${subgraph} did not answer a ping; its subscription connection was terminated`),
    },
  });
  const extensions: GatewayExtension[] = [
    // First, so CORS headers and preflights apply to every route.
    httpSecurity({ cors: config.cors, isProduction: config.isProduction }),
    observability(metrics, source, tracing),
    entityCacheExtension(entityCache, logger),
    // Every gateway hears every announced change and drops it from the cache (no feed while the cache is off).
    ...changeFeedExtensions({ config, logger, events: backends.events, cache: entityCache, registry: metrics.registry }),
    admin(source),
    // The console asks the sagas subgraph for its sagas (sagaOverview) through the gateway's client for it.
    operatorConsole({ source, metrics, entityCache, journal, operatorToken: config.admin.operatorToken, client: (name) => dataSources.client(name) }),
    // Before the GraphQL endpoint, so a browser's GET /graphql gets the IDE; off in production.
    config.isProduction ? noLandingPage() : graphiql(),
    limits(config.limits, logger, checks),
    persistedQueries({ settings: config.persistedQueries, state: backends.cache, logger, onStoreError: () => metrics.persistedQueryStoreErrors.inc() }),
    auth({
      settings: config.auth,
      verifier,
      logger,
      registry: metrics.registry,
      spans: checks,
      maxFields: config.limits.maxCost,
      // Refused tokens count against their address, which, over the limit, has its tokens refused unverified.
      attempts: limiter && tokenAttempts({ limiter, logger, metrics: rateLimitCounters }),
    }),
    // After auth, so it rewrites the document auth restricted (and renames back before auth's finish).
    planning({ logger }),
    // After auth, so a verified caller is counted by identity rather than by address.
    ...(limiter ? [rateLimit({ limiter, logger, metrics: rateLimitCounters })] : []),
    federated,
    // @defer over HTTP, through the executor WebSocket and SSE run through (the subscriptions extension's).
    incrementalDelivery({ executorFor: (host) => federated.executorFor(host), logger, metrics }),
  ];
  // After the extensions, so a bad setting (e.g. an unreadable manifest) stops start-up before any work.
  await source.start();
  const server = new GatewayServer({
    config,
    logger,
    source,
    extensions,
    headers,
    buildDataSource: (name) => dataSources.create(name),
    onStop: () => dataSources.close(),
  });
  return Object.assign(server, { metrics, dataSources, entityCache });
}
