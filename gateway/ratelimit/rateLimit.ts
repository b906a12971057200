/**
 * Rate limit at the gateway, per verified identity (after auth) or else per client address, on
 * every transport: HTTP per request, SSE per stream, graphql-ws per connection and again per
 * operation (each `subscribe` message). The count lives where Backends keep state, so every gateway instance shares it.
 * Each answer carries `RateLimit-Policy` and `RateLimit`; over the limit, 429 with `Retry-After`.
 *
 * ```ts
 * rateLimit({ limiter: backends.rateLimiter({ name: 'gateway', limit: 100, windowSec: 60 }), logger, metrics: rateLimitMetrics(registry) })
 * ```
 */
import { clientKey, FailOpenRateLimiter, rateLimitHeaders, retryAfterSeconds, type RateLimiter } from '@trellis/kit';
import { type RateLimitMetrics } from '@trellis/kit/internal';
import type { Logger } from '@trellis/kit';
import type { GatewayExtension } from '../extension';
import type { GatewayContext } from '../context';
import { RateLimitedError } from './errors';

export interface GatewayRateLimitOptions {
  limiter: RateLimiter;
  logger: Logger;
  metrics?: RateLimitMetrics;
  now?: () => number;
}

export function rateLimit({ limiter, logger, metrics, now }: GatewayRateLimitOptions): GatewayExtension {
  const { policy } = limiter;
  const guarded = new FailOpenRateLimiter(limiter, { logger, now, onStoreFailure: () => metrics?.storeFailures.inc({ policy: policy.name }) });
  /** Counts one request of the caller; throws RateLimitedError over the limit. `answer` takes the RateLimit fields (HTTP and SSE answers). */
  const count = async (context: GatewayContext, answer: boolean) => {
    const verdict = await guarded.check(clientKey(context.user?.id, context.clientAddress));
    if (verdict.storeFailed) return;
    const headers = rateLimitHeaders(policy, verdict);
    if (answer) context.responseHeaders = { ...context.responseHeaders, ...headers };
    if (verdict.allowed) return;
    metrics?.refused.inc({ policy: policy.name });
    throw new RateLimitedError(policy, retryAfterSeconds(verdict), headers);
  };
  return {
    name: 'rate-limit',
    extendContext: (_header, context) => count(context, true),
    // Each graphql-ws operation is a request too: a connection cannot send more than its caller may.
    admitOperation: (context) => count(context, false),
  };
}
