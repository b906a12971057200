/**
 * Metrics and traces for the gateway: `/metrics` (on the admin listener), per-request counters and
 * latency by operation name and outcome, supergraph version and composition failures; the request's
 * server span (continuing the caller's W3C trace) with its GraphQL attributes and parse/validate
 * spans, the plan span with its cache outcome. Subgraph fetches carry the trace on
 * (gateway/datasource). With tracing off none of the tracing hooks is installed.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { mountMetrics } from '@trellis/kit/internal';
import { graphqlSpans, traceHttpRequests } from '@trellis/kit/internal';
import type { GatewayContext } from '../context';
import type { GatewayExtension } from '../extension';
import type { SupergraphSource } from '../supergraph/types';
import type { GatewayMetrics } from './metrics';
import { tracePlanCache } from './planSpans';

export { GatewayMetrics, type RequestOutcome } from './metrics';
export { checkSpans, BARE_CHECKS, type CheckSpans } from './checkSpans';
export { PLAN_SPAN, PLAN_ATTRIBUTES } from './planSpans';

/** `tracing`: true when spans are exported (config.telemetry is set). */
export function observability(metrics: GatewayMetrics, source: SupergraphSource, tracing = false): GatewayExtension {
  source.on('served', (status) => metrics.supergraphVersion.set(status.version));
  source.on('failed', () => metrics.compositionFailures.inc());
  source.on('composition', (outcome) => metrics.compositions.inc({ outcome }));
  metrics.followPublication(() => source.status().publication);

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ request, response, errors, operationName }) {
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const hasErrors = (errors?.length ?? 0) > 0 || (body?.errors?.length ?? 0) > 0;
          const hasData = body?.data !== undefined && body?.data !== null;
          const outcome = !hasErrors ? 'success' : hasData ? 'partial' : 'error';
          metrics.recordRequest(operationName ?? request.operationName, outcome, (performance.now() - started) / 1000);
        },
      };
    },
  };

  return {
    name: 'observability',
    mountAdmin: (app) => mountMetrics(app, metrics.registry),
    apolloPlugins: tracing ? [plugin, graphqlSpans<GatewayContext>()] : [plugin],
    graphqlMiddleware: tracing ? [traceHttpRequests('/graphql')] : [],
    attach: tracing ? (_server, host) => tracePlanCache(host.gateway) : undefined,
  };
}
