/**
 * `@trellis/kit/internal`: platform internals the gateway, the launcher and the scripts use (dev hub,
 * backend wiring, operation limits, browser bundling, spans). NOT part of the documented API and not
 * covered by semver: it changes with the platform. Subgraphs and BFFs import the documented entries.
 */
export { type AccessPolicy, type AccessSubject, DevIdentityProvider, deny, describeTokenFailure, readAccessPolicy, requirementsOf } from './auth';
export { type HeaderRules, assertSafeForProduction, formatConfig, loadProcessConfig } from './config';
export { DevHubServer } from './devhub';
export { InMemoryDiscovery, SCHEMA_REVISION_META, supergraphPublicationOf, type SubgraphAllowList, type Watch, type SupergraphPublication, type PublishedSupergraph, type PublicationListener } from './discovery';
export { errorMessage } from './errors';
export { InMemoryEventBus, replayDeadLetters } from './events';
export { BrowserBundle, bundlePage } from './http/browserBundle';
export {
  type AcceptedAnswers,
  type Answer,
  type CorsPolicy,
  GraphQLMediaType,
  type MultipartEnd,
  type MultipartOptions,
  MultipartSpec,
  acceptedAnswers,
  answerFor,
  answerMediaType,
  apolloHandler,
  closeServer,
  graphqlError,
  isOriginAllowed,
  jsonErrorHandler,
  listen,
  mountHealth,
  multipartContentType,
  negotiateGraphQLAnswer,
  negotiatedAnswers,
  negotiatedMediaType,
  quietClientProtocolErrors,
  sendRequestError,
  writeMultipart,
} from './http';
export { type CostDirectives, LimitCode, LimitExceededError, type ListSizeDirective, MeasureCache, type MeasureOptions, NO_COST_DIRECTIVES, type OperationLimits, type OperationMeasure, enforceOperationLimits, introspectionDepthError, measureOperation, readCostDirectives, tokenLimitError, validationBudgetError } from './limits';
export { PER_OPERATION_HEADERS } from './logging';
export { keepsExemplars, mountMetrics, observeWithTrace } from './metrics';
export { type RateLimitMetrics } from './ratelimit';
export { type BreakerState, breakerState, createBreaker } from './resilience';
export { InMemoryStateStore } from './state';
export { connectionParamsHeaders } from './subgraph/context';
export { SUBGRAPH_PROFILE } from './subgraph/processProfile';
export { type Context, GRAPHQL_ATTRIBUTES, type GraphQLOutcome, activeContext, activeSpan, failSpan, graphqlOutcome, graphqlSpans, inSpanSync, recordOutcome, startSpan, traceHttpRequests } from './telemetry';
