/**
 * Where caches and limits live: APQ, the BFFs' response caches, rate-limit counts. They can be
 * evicted without harm, so they may sit on an LRU Redis of their own, leaving the state store
 * (saga records, dedupe keys, sessions) on `noeviction`.
 */
import { z } from 'zod';

/** The variables, merged into the config schema (index.ts). */
export const cacheEnvShape = {
  /** A Redis for caches and rate limits; unset: they use the state store. */
  CACHE_REDIS_URL: z
    .string()
    .trim()
    .url()
    .refine((url) => /^rediss?:$/.test(new URL(url).protocol), 'a redis:// or rediss:// URL')
    .optional(),
};

export interface CacheSettings {
  /** Undefined: caches use the state store. */
  redisUrl?: string;
}

export function cacheSettings(env: { CACHE_REDIS_URL?: string }): CacheSettings {
  return { redisUrl: env.CACHE_REDIS_URL };
}
