/**
 * Incremental delivery (issue 32): `@defer` planned by Apollo's query planner and executed by
 * Trellis (deliver.ts), streamed over HTTP as `multipart/mixed` in both wire formats (wire.ts,
 * http.ts). Mounted on `/graphql` before Apollo Server; the FederatedExecutor it uses is the one
 * WebSocket and SSE run through, so the checks and error formatting are the same.
 */
import type { RequestHandler } from 'express';
import type { Logger } from '@trellis/kit';
import type { GatewayExtension, GatewayHost } from '../extension';
import type { FederatedExecutor } from '../subscriptions/federatedExecutor';
import { deferredOverHttp, INCREMENTAL_SPECS } from './http';
import type { GatewayMetrics } from '../observability';

export { admitDefer } from './deferInSchema';
export { INCREMENTAL_SPECS } from './http';
export { deferSpec20220824, incrementalSpecV02 } from './wire';
export type { Delivered, IncrementalPayload, Pending } from './payloads';

export interface IncrementalDeliveryOptions {
  /** The executor WebSocket and SSE run through (the subscriptions extension's). */
  executorFor: (host: GatewayHost) => FederatedExecutor;
  logger?: Logger;
  /** Where a streamed request is counted and timed, as Apollo Server's are. */
  metrics?: Pick<GatewayMetrics, 'recordRequest'>;
}

export function incrementalDelivery({ executorFor, logger, metrics }: IncrementalDeliveryOptions): GatewayExtension {
  let handler: RequestHandler | undefined;
  return {
    name: 'incremental-delivery',
    multipartSpecs: [...INCREMENTAL_SPECS],
    mount: (_app, host) => {
      handler = deferredOverHttp(host, () => executorFor(host), logger, metrics);
    },
    graphqlMiddleware: [(req, res, next) => (handler ? handler(req, res, next) : next())],
  };
}
