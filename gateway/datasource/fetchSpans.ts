/**
 * The spans of a subgraph fetch: `fetch <subgraph>` for the data source's call (deduplicated or
 * not), and `POST <subgraph>` (a client span) for each attempt on an instance, whose context the
 * subgraph's request continues through the W3C headers.
 */
import { SpanKind } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import type { ServiceInstance } from '@trellis/kit';
import { injectTrace, inSpan, type Span } from '@trellis/kit';

export const FETCH_ATTRIBUTES = {
  subgraph: 'trellis.subgraph.name',
  instance: 'trellis.subgraph.instance',
  attempt: 'trellis.fetch.attempt',
  breakerState: 'trellis.breaker.state',
  deduplicated: 'trellis.fetch.deduplicated',
  /** Entities of an `_entities` fetch served from the entity cache (all of them: no `POST` span follows). */
  entityCacheHits: 'trellis.entity_cache.hits',
  /** Entities of an `_entities` fetch asked of the subgraph (the cache's misses; all of them in shadow mode). */
  entityCacheMisses: 'trellis.entity_cache.misses',
  statusCode: ATTR_HTTP_RESPONSE_STATUS_CODE,
} as const;

export interface AttemptSpan {
  subgraph: string;
  instance: ServiceInstance;
  attempt: number;
  breakerState: 'closed' | 'open' | 'half_open';
}

/** Runs one attempt in its client span; `send` gets the call's headers with this span's trace context. */
export function inAttemptSpan<T>(
  attempt: AttemptSpan,
  headers: Record<string, string>,
  send: (headers: Record<string, string>, span: Span) => Promise<T>,
): Promise<T> {
  const url = URL.canParse(attempt.instance.url) ? new URL(attempt.instance.url) : undefined;
  return inSpan(
    `POST ${attempt.subgraph}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        [ATTR_HTTP_REQUEST_METHOD]: 'POST',
        [ATTR_URL_FULL]: attempt.instance.url,
        ...(url
          ? {
              [ATTR_SERVER_ADDRESS]: url.hostname,
              [ATTR_SERVER_PORT]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
            }
          : {}),
        [FETCH_ATTRIBUTES.subgraph]: attempt.subgraph,
        [FETCH_ATTRIBUTES.instance]: attempt.instance.id,
        [FETCH_ATTRIBUTES.attempt]: attempt.attempt,
        [FETCH_ATTRIBUTES.breakerState]: attempt.breakerState,
      },
    },
    (span) => send(injectTrace({ ...headers }), span),
  );
}
