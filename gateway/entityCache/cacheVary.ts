/**
 * What else a subgraph is told that may change its answer (a tenant, a language): the headers the
 * rules send, less the per-request ones and the caller's credentials (the cache keys the caller by
 * identity and scopes instead, CacheCaller). Cached entries and whole answers are kept apart by it.
 */

/** Headers that differ on every request yet never change the answer. */
export const PER_REQUEST_HEADERS: ReadonlySet<string> = new Set(['x-correlation-id', 'traceparent', 'tracestate']);

/** Headers the entity cache keys by the caller's identity and scopes instead, not by their value. */
const CALLER_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie']);

// Stryker disable next-line EqualityOperator: names are unique, so any consistent order gives equal keys for equal header sets
export const byName = ([a]: [string, string], [b]: [string, string]) => (a < b ? -1 : 1);

export function cacheVary(headers: Record<string, string>): string {
  const vary = Object.entries(headers)
    .filter(([name]) => !PER_REQUEST_HEADERS.has(name) && !CALLER_HEADERS.has(name))
    .sort(byName);
  return vary.length === 0 ? '' : JSON.stringify(vary);
}
