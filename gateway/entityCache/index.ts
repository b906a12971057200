/** The gateway's entity cache: what the data sources, the gateway's assembly and the change feed use. */
export { EntityCache, type CacheCaller, type EntityCacheOptions, type EntityChangeSink, type SubgraphFetch } from './entityCache';
export { cacheHintOf, type CacheHint } from './cacheHint';
export type { CachedFetch, FetchedAnswer } from './entityFetch';
export { entityCacheExtension } from './extension';
export { byName, cacheVary, PER_REQUEST_HEADERS } from './cacheVary';
