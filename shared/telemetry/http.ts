/**
 * The server span of one HTTP request: continues the caller's trace (W3C headers) and stays active
 * while later middleware and handlers run, so their spans and log lines belong to it. Mount it
 * after the body parser: a parser resumes `next` from stream callbacks, outside any span.
 */
import type { RequestHandler } from 'express';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { extractTrace } from './spans';

/** `route`: the span's route (`/graphql`); unset, each request's path (BFF pages). */
export function traceHttpRequests(route?: string): RequestHandler {
  const tracer = trace.getTracer('trellis');
  return (req, res, next) => {
    const parent = extractTrace(req.headers, context.active());
    const path = req.originalUrl.split('?')[0];
    const span = tracer.startSpan(
      `${req.method} ${route ?? path}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: req.method,
          [ATTR_URL_PATH]: path,
          ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}),
        },
      },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(trace.setSpan(parent, span), next);
  };
}
