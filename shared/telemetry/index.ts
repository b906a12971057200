/**
 * OpenTelemetry tracing for every Trellis process: started from the standard OTEL_* variables by
 * `runMain`, off (nothing registered, nothing exported) when no endpoint is set.
 *
 *   const telemetry = startTelemetry(config.telemetry, { serviceName: 'users' });
 *   await inSpan('reserve stock', { attributes: { 'trellis.saga.id': id } }, async () => ...);
 *   await telemetry.stop(); // flushes
 */
export { telemetrySettings, type TelemetrySettings, type SamplerKind } from './settings';
export { startTelemetry, type Telemetry, type TelemetryOptions } from './start';
export { samplerFor } from './sampler';
export {
  inSpan,
  inSpanSync,
  errorType,
  startSpan,
  failSpan,
  injectTrace,
  extractTrace,
  withTraceContext,
  activeTraceIds,
  activeSpan,
  activeContext,
  SpanKind,
  type SpanOptions,
  type Span,
  type Context,
  type Link,
  type Attributes,
} from './spans';
export { traceHttpRequests } from './http';
export { graphqlSpans, graphqlOutcome, recordOutcome, GRAPHQL_ATTRIBUTES, type GraphQLOutcome } from './graphql';
