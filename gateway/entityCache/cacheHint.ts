/**
 * How long a subgraph's answer may be kept and by whom, as the subgraph declared it: Apollo
 * Server computes `Cache-Control` from the schema's `@cacheControl(maxAge:, scope:)` (the
 * smallest maxAge of every field it resolved, private if any was), so the header is the
 * declaration applied to exactly what was asked. Apollo Router's entity cache reads the same header.
 */

export interface CacheHint {
  /** Seconds; 0: not cacheable. */
  maxAge: number;
  scope: 'PUBLIC' | 'PRIVATE';
}

export const UNCACHEABLE: CacheHint = { maxAge: 0, scope: 'PUBLIC' };

const MAX_AGE = /(?:^|,)\s*max-age=(\d+)\s*(?:,|$)/i;
const PRIVATE = /(?:^|,)\s*private\s*(?:,|$)/i;
const NO_STORE = /(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)/i;

/** The hint a `Cache-Control` header gives; absent, unparsable or `no-store`: uncacheable. */
export function cacheHintOf(header: string | undefined): CacheHint {
  if (!header || NO_STORE.test(header)) return UNCACHEABLE;
  const maxAge = MAX_AGE.exec(header);
  if (!maxAge) return UNCACHEABLE;
  return { maxAge: Number(maxAge[1]), scope: PRIVATE.test(header) ? 'PRIVATE' : 'PUBLIC' };
}

/** The stricter of two hints: the smaller maxAge, private if either is. */
export function stricterHint(a: CacheHint, b: CacheHint): CacheHint {
  return { maxAge: Math.min(a.maxAge, b.maxAge), scope: a.scope === 'PRIVATE' || b.scope === 'PRIVATE' ? 'PRIVATE' : 'PUBLIC' };
}
