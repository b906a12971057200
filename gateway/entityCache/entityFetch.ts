/**
 * One `_entities` fetch through the cache: every representation is looked up, only the misses go
 * to the subgraph (in their order, as a fetch of their own), and the answer is put back together
 * in the order the query plan sent them, errors renumbered to match. What came back is stored,
 * except entities an error touches: errors are never cached. In shadow mode every representation
 * goes to the subgraph, the fresh answer is served, and cached entities are compared with it.
 */
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { stricterHint, type CacheHint } from './cacheHint';
import type { EntityStore, Lookup } from './entityStore';
import type { EntityCacheMetrics } from './metrics';
import { differingFields } from './shadowComparison';
import type { StoredEntity } from './storedEntity';

/** A subgraph's answer and the hint its `Cache-Control` gave. */
export interface FetchedAnswer {
  response: GatewayGraphQLResponse;
  hint: CacheHint;
}

export interface CachedFetch extends FetchedAnswer {
  /** Entities served from the cache. */
  hits: number;
  /** Entities asked of the subgraph. */
  fetched: number;
  /** `Type:{key}` of every entity the answer holds (a whole answer made of it is dropped with any); undefined when one cannot be named. */
  entities?: readonly string[];
}

export interface EntityFetch {
  mode: 'on' | 'shadow';
  representations: unknown[];
  /** One per representation; undefined where it may not be cached. */
  lookups: Array<Lookup | undefined>;
  variables: Record<string, unknown>;
  store: EntityStore;
  metrics: EntityCacheMetrics;
  now: () => number;
  send: (variables: Record<string, unknown>) => Promise<FetchedAnswer>;
  /** Told when the subgraph answers `private`: this query's entries are per caller from now on. */
  onPrivate: () => void;
}

export async function fetchThroughCache(fetch: EntityFetch): Promise<CachedFetch> {
  const answer = await answerThroughCache(fetch);
  const named = fetch.lookups.every((lookup) => lookup !== undefined);
  return named ? { ...answer, entities: fetch.lookups.map((lookup) => (lookup as Lookup).entity) } : answer;
}

async function answerThroughCache(fetch: EntityFetch): Promise<CachedFetch> {
  const found = await fetch.store.getMany(fetch.lookups);
  if (fetch.mode === 'shadow') return shadowFetch(fetch, found);
  const misses = found.flatMap((entry, index) => (entry ? [] : [index]));
  const cachedHint = servedHint(found, fetch.now());
  if (misses.length === 0) {
    return { response: { data: { _entities: found.map((entry) => JSON.parse((entry as StoredEntity).json) as unknown) } }, hint: cachedHint, hits: found.length, fetched: 0 };
  }
  const fetchedAt = fetch.now();
  const variables = misses.length === found.length ? fetch.variables : { ...fetch.variables, representations: misses.map((index) => fetch.representations[index]) };
  const fresh = await fetch.send(variables);
  storeFresh(fetch, fresh, misses, fetchedAt);
  const hint = stricterHint(fresh.hint, cachedHint);
  const hits = found.length - misses.length;
  if (hits === 0) return { ...fresh, hint, hits, fetched: misses.length };
  const freshEntities = entitiesOf(fresh.response);
  const errors = fresh.response.errors?.map((error) => ({ ...error, path: renumbered(error.path, misses) }));
  // No data from the subgraph: the cached entities cannot be put together without it, so the answer stands as it came.
  if (!freshEntities) return { response: { ...fresh.response, ...(errors ? { errors } : {}) }, hint, hits: 0, fetched: misses.length };
  let next = 0;
  const entities = found.map((entry) => (entry ? (JSON.parse(entry.json) as unknown) : freshEntities[next++]));
  return { response: { ...fresh.response, data: { ...fresh.response.data, _entities: entities }, ...(errors ? { errors } : {}) }, hint, hits, fetched: misses.length };
}

async function shadowFetch(fetch: EntityFetch, found: Array<StoredEntity | undefined>): Promise<CachedFetch> {
  const fetchedAt = fetch.now();
  const fresh = await fetch.send(fetch.variables);
  const freshEntities = entitiesOf(fresh.response);
  const erred = erredIndexes(fresh.response);
  found.forEach((entry, index) => {
    const lookup = fetch.lookups[index];
    const current = freshEntities?.[index];
    if (!entry || !lookup || !isObject(current) || erred === 'all' || erred.has(index)) return;
    fetch.metrics.shadowComparisons.inc({ type: lookup.type });
    const cached = JSON.parse(entry.json) as unknown;
    const fields = isObject(cached) ? differingFields(cached, current) : Object.keys(current);
    for (const field of fields) fetch.metrics.shadowDifferences.inc({ type: lookup.type, field });
  });
  // Stored as `on` would have stored them (the misses only), so what is compared is what `on` would serve.
  const misses = found.flatMap((entry, index) => (entry ? [] : [index]));
  storeFresh(fetch, fresh, misses, fetchedAt, true);
  return { ...fresh, hits: 0, fetched: found.length };
}

/**
 * Stores the fresh entities of the representations at `misses` (their original indexes): answered
 * objects only, none an error names, and nothing when an error cannot be placed.
 * `complete`: the answer holds every representation, so entity `misses[i]` is at `misses[i]`.
 */
function storeFresh(fetch: EntityFetch, fresh: FetchedAnswer, misses: number[], fetchedAt: number, complete = false): void {
  if (fresh.hint.maxAge <= 0) return;
  const isPrivate = fresh.hint.scope === 'PRIVATE';
  if (isPrivate) fetch.onPrivate();
  const entities = entitiesOf(fresh.response);
  const erred = erredIndexes(fresh.response);
  if (!entities || erred === 'all') return;
  misses.forEach((index, position) => {
    const at = complete ? index : position;
    const entity = entities[at];
    const lookup = fetch.lookups[index];
    if (!lookup || !isObject(entity) || erred.has(at)) return;
    // A private answer is kept only under the caller it was for (never for an anonymous one).
    const variant = isPrivate ? lookup.privateVariant : lookup.variant;
    if (variant) fetch.store.put({ ...lookup, variant }, JSON.stringify(entity), fresh.hint, fetchedAt);
  });
}

/** The hint of what the cache served: the shortest time any entry has left, private if any was. */
function servedHint(found: Array<StoredEntity | undefined>, now: number): CacheHint {
  let hint: CacheHint | undefined;
  for (const entry of found) {
    if (!entry) continue;
    const entryHint: CacheHint = { maxAge: Math.max(0, Math.floor((entry.expiresAt - now) / 1000)), scope: entry.isPrivate ? 'PRIVATE' : 'PUBLIC' };
    hint = hint ? stricterHint(hint, entryHint) : entryHint;
  }
  return hint ?? { maxAge: Number.MAX_SAFE_INTEGER, scope: 'PUBLIC' };
}

function entitiesOf(response: GatewayGraphQLResponse): unknown[] | undefined {
  const entities = (response.data as { _entities?: unknown } | null | undefined)?._entities;
  return Array.isArray(entities) ? entities : undefined;
}

/** The indexes of `_entities` the errors name; 'all' when one names none (it may concern any). */
function erredIndexes(response: GatewayGraphQLResponse): Set<number> | 'all' {
  const indexes = new Set<number>();
  for (const error of response.errors ?? []) {
    const index = error.path?.[1];
    if (error.path?.[0] !== '_entities' || typeof index !== 'number') return 'all';
    indexes.add(index);
  }
  return indexes;
}

/** An error's path in the fetch of the misses, renumbered to the representation's place in the whole fetch. */
function renumbered(path: ReadonlyArray<string | number> | undefined, misses: number[]): ReadonlyArray<string | number> | undefined {
  if (!path || path[0] !== '_entities' || typeof path[1] !== 'number') return path;
  return ['_entities', misses[path[1]] ?? path[1], ...path.slice(2)];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
