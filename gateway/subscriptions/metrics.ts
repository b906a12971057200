/** The subscription caps in Prometheus, after Apollo Router's `apollo_router_opened_subscriptions` and rejected-subscription counts. */
import { Counter, Gauge, type Registry } from 'prom-client';

export type SubscriptionRefusal = 'per_connection' | 'per_user';

export interface SubscriptionMetrics {
  /** Subscriptions open in this process, over graphql-ws and SSE. */
  open: Gauge;
  /** Subscriptions refused by a cap, by which one. */
  refused: Counter<'reason'>;
}

export function subscriptionMetrics(registry: Registry): SubscriptionMetrics {
  const registers = [registry];
  const refused = new Counter({ name: 'trellis_gateway_subscriptions_refused_total', help: 'Subscriptions refused by a cap on open subscriptions, by cap', labelNames: ['reason'], registers });
  // Both series from the start, so a dashboard reads 0 rather than no data.
  for (const reason of ['per_connection', 'per_user'] satisfies SubscriptionRefusal[]) refused.inc({ reason }, 0);
  return {
    open: new Gauge({ name: 'trellis_gateway_open_subscriptions', help: 'Subscriptions open in this gateway process (graphql-ws and SSE)', registers }),
    refused,
  };
}
