/**
 * CORS allow-list. A few lines of our own: the `cors` package is in node_modules only as a
 * transitive dependency and has no types installed, and an allow-list needs little of it.
 * An allowed origin gets the CORS headers; any other gets none (the browser then refuses to hand
 * the answer to the page) and its preflight is answered 403.
 */
import type { RequestHandler } from 'express';
import { isOriginAllowed, type CorsPolicy } from '@trellis/kit/internal';

export { isOriginAllowed, type CorsPolicy };
// Answer headers a page on another origin may read: the rate-limit state (so a client can back off
// before it is refused) and the correlation id it quotes in a bug report.
const EXPOSED_HEADERS = 'ratelimit, ratelimit-policy, retry-after, x-correlation-id';
const ALLOWED_HEADERS = 'content-type, authorization, apollo-require-preflight, x-apollo-operation-name, x-correlation-id, traceparent, tracestate, idempotency-key';

export function corsMiddleware(policy: CorsPolicy): RequestHandler {
  return (req, res, next) => {
    const origin = req.header('origin');
    res.vary('Origin');
    const isPreflight = req.method === 'OPTIONS' && req.header('access-control-request-method') !== undefined;
    if (!origin || !isOriginAllowed(origin, policy)) {
      if (isPreflight) {
        res.sendStatus(403);
        return;
      }
      return next();
    }
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
    if (!isPreflight) {
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
      return next();
    }
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
    res.setHeader('access-control-max-age', '600');
    res.sendStatus(204);
  };
}
