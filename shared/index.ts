/**
 * The Trellis kit: what subgraph and BFF authors import. Keep this surface small; everything
 * not re-exported here is internal to `shared/`.
 */
export { gql } from 'graphql-tag';
export { loadConfig, type Config, type ProcessProfile } from './config';
export { createLogger, correlationIdFrom, CORRELATION_ID_HEADER, TRACEPARENT_HEADER, type Logger } from './logging';
export { TrellisError, BadUserInputError, NotFoundError, ForbiddenError, BackendUnavailableError, ConfigError, ErrorCode } from './errors';
export { connectBackends, type Backends } from './backends';
export type { Discovery, ServiceInstance, ServiceRegistration } from './discovery';
export type { StateStore, VersionedValue, VersionedWrite } from './state';
export { FailOpenRateLimiter, clientKey, rateLimitHeaders, retryAfterSeconds, rateLimitMetrics, stateStoreRateLimiter, type RateLimiter, type RateLimiterFactory, type RateLimitPolicy } from './ratelimit';
export type { EventBus, EventMessage, OutgoingMessage, AnnounceChange, ChangeAnnouncement } from './events';
export {
  createSubgraph,
  serveSubgraph,
  type Subgraph,
  type SubgraphOptions,
  type SubgraphContext,
  type CallerIdentity,
  type ServeContext,
  type SubgraphFactory,
  tracedEvent,
  type EventTrace,
  requestLoader,
  type RequestLoader,
  type BatchRead,
  peerSubgraphs,
  type PeerSubgraphs,
  type PeerAnswer,
} from './subgraph';
export { runMain } from './lifecycle';
export { createGuard, DependencyUnavailableError, createKeptAliveClient, type Guard, type BreakerSettings, type KeepAliveSettings } from './resilience';
export { createMetricsRegistry, type Registry } from './metrics';
export { createTokenVerifier, bearerToken, AuthenticationError, type TokenVerifier, type AuthSettings } from './auth';
export { inSpan, injectTrace, extractTrace, withTraceContext, SpanKind, type Span } from './telemetry';
