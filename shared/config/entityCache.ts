/**
 * The gateway's entity cache (gateway/entityCache): whether it serves (`on`), only compares
 * (`shadow`) or is off, how many entities each gateway keeps in process, the longest any entry
 * lives whatever a subgraph declares, and how long the cache Redis may take to answer before a
 * lookup counts as a miss.
 */
import { z } from 'zod';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** The variables, merged into the config schema (index.ts). */
export const entityCacheEnvShape = {
  /** off: no cache; on: entities are served from it; shadow: read and written, fresh data served, differences counted. */
  ENTITY_CACHE: z.enum(['off', 'on', 'shadow']).default('off'),
  /** Entities each gateway keeps in process (an LRU), in front of the cache Redis. */
  ENTITY_CACHE_LOCAL_MAX: positiveInt(10_000),
  /** No entry lives longer than this, whatever maxAge a subgraph declares (seconds). */
  ENTITY_CACHE_MAX_TTL_S: positiveInt(3600),
  /** A cache Redis command with no answer after this long is a miss; Redis is then left alone for a second (ms). */
  ENTITY_CACHE_REDIS_TIMEOUT_MS: positiveInt(50),
  /** on: a query whose every fetch the cache can hold is also kept whole and served before planning (the response tier); off: entities and root answers only. */
  ENTITY_CACHE_RESPONSES: z.enum(['on', 'off']).default('on'),
  /** Prefix of the cache's Redis keys (one per entity: `<prefix><Type>:<key JSON>`). */
  ENTITY_CACHE_PREFIX: z.string().min(1).default('trellis:entity:'),
};

export type EntityCacheMode = 'off' | 'on' | 'shadow';

export interface EntityCacheSettings {
  mode: EntityCacheMode;
  localMax: number;
  maxTtlMs: number;
  redisTimeoutMs: number;
  prefix: string;
  /** Whole answers kept too (ENTITY_CACHE_RESPONSES=on). */
  responses: boolean;
  /** The cache Redis (CACHE_REDIS_URL); undefined: in process only, never the state store. */
  redisUrl?: string;
}

export function entityCacheSettings(env: {
  ENTITY_CACHE: EntityCacheMode;
  ENTITY_CACHE_LOCAL_MAX: number;
  ENTITY_CACHE_MAX_TTL_S: number;
  ENTITY_CACHE_REDIS_TIMEOUT_MS: number;
  ENTITY_CACHE_PREFIX: string;
  ENTITY_CACHE_RESPONSES: 'on' | 'off';
  CACHE_REDIS_URL?: string;
}): EntityCacheSettings {
  return {
    mode: env.ENTITY_CACHE,
    localMax: env.ENTITY_CACHE_LOCAL_MAX,
    maxTtlMs: env.ENTITY_CACHE_MAX_TTL_S * 1000,
    redisTimeoutMs: env.ENTITY_CACHE_REDIS_TIMEOUT_MS,
    prefix: env.ENTITY_CACHE_PREFIX,
    responses: env.ENTITY_CACHE_RESPONSES === 'on',
    redisUrl: env.CACHE_REDIS_URL,
  };
}
