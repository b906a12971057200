/**
 * Subscriptions (federated) for the gateway, over graphql-ws, SSE (graphql-sse) and multipart HTTP
 * on `/graphql`. Apollo Gateway has none; see FederatedExecutor for how a subscription's events are
 * resolved across subgraphs, and HttpStreams for what SSE and multipart share.
 */
import type { Logger } from '@trellis/kit';
import type { GatewayExtension, GatewayHost } from '../extension';
import { FederatedExecutor } from './federatedExecutor';
import type { UpstreamSettings } from './upstream';
import { mountSse } from './sse';
import { HttpStreams } from './httpStreams';
import { multipartSubscriptions, type MultipartParts } from './multipart';
import { MultipartSpec } from '@trellis/kit/internal';
import { serveWebSocket } from './websocket';
import { SubscriptionSlots, type SubscriptionCaps } from './slots';
import { subscriptionMetrics } from './metrics';
import type { Registry } from 'prom-client';

export { SubscriptionSlots, SubscriptionLimitError, SubscriptionLimitCode, type SubscriptionCaps } from './slots';

export interface SubscriptionSettings {
  /** The largest SSE request body and WebSocket message, the same bound as `/graphql`'s. */
  maxBodyBytes: number;
  /** MAX_TOKENS, as on `/graphql`. */
  maxTokens: number;
  /** Off in production, as on `/graphql`. */
  introspection: boolean;
  /** Where an SSE request that failed inside the transport is logged. */
  logger?: Logger;
  /** Spans for each operation, its upstream subscription and each event (only when spans are exported). */
  tracing?: boolean;
  /** MAX_SUBSCRIPTIONS_PER_CONNECTION and MAX_SUBSCRIPTIONS_PER_USER (0: no cap). */
  caps?: SubscriptionCaps;
  /** Where the open-subscription gauge and the cap refusals are counted. */
  registry?: Registry;
  /** The connections to subgraphs (keep-alive pings; what hears of a dead one). */
  upstream?: UpstreamSettings;
  /** A multipart subscription's heartbeat `{}`, every this many ms in which no event went out (MULTIPART_HEARTBEAT_MS); 0: none. */
  multipartHeartbeatMs?: number;
}

/** The extension, and the executor it runs operations through (other transports, e.g. @defer over HTTP, share it). */
export function subscriptions({ maxBodyBytes, maxTokens, introspection, logger, tracing = false, caps = { maxPerConnection: 0, maxPerUser: 0 }, registry, upstream, multipartHeartbeatMs = 5000 }: SubscriptionSettings): GatewayExtension & { executorFor(host: GatewayHost): FederatedExecutor } {
  // One count for every transport: a caller's SSE and multipart streams and graphql-ws subscriptions share its cap.
  const slots = new SubscriptionSlots(caps, registry && subscriptionMetrics(registry));
  let websocket: { close(): Promise<void> } | undefined;
  let sse: { close(): void } | undefined;
  let multipart: MultipartParts | undefined;
  let executor: FederatedExecutor | undefined;
  const executorFor = (host: GatewayHost) => (executor ??= new FederatedExecutor(host.gateway, host.instances, (check) => host.checkOperation(check), {
      maxTokens,
      introspection,
      tracing,
      formatError: (formatted, error) => host.formatError(formatted, error),
      subgraphHeaders: (subgraph, context) => host.subgraphHeaders(subgraph, context),
      upstream,
    }));
  return {
    name: 'subscriptions',
    executorFor,
    mount: (app, host) => {
      const executor = executorFor(host);
      // SSE and multipart streams: one set, so a stop ends them all.
      const streams = new HttpStreams(host, executor, { slots, tracing });
      sse = mountSse(app, host, streams, { maxBodyBytes, logger });
      multipart = { host, executor, streams };
    },
    multipartSpecs: [MultipartSpec.SUBSCRIPTION],
    graphqlMiddleware: [multipartSubscriptions(() => multipart, { heartbeatMs: multipartHeartbeatMs, logger })],
    attach: (server, host) => {
      websocket = serveWebSocket(server, host, executorFor(host), { maxBodyBytes, slots, tracing });
    },
    // On shutdown: graphql-ws clients get 1001 Going Away, SSE and multipart streams end (the client may resubscribe elsewhere).
    stop: async () => {
      sse?.close();
      await websocket?.close();
      await executor?.close();
    },
  };
}
