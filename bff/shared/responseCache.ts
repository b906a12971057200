/**
 * Short-lived cache of safe reads in the StateStore. A personal answer is keyed by the caller's
 * identity and scopes (`Caller.cacheKey`), a public one is shared; only answers without errors are
 * kept. A store that fails is skipped (logged), never an error for the caller.
 */
import { Counter } from 'prom-client';
import type { Logger, Registry, StateStore } from '@trellis/kit';
import { singleMetric } from '@trellis/kit/bff';
import type { Caller } from './caller';

export interface CacheEntry {
  /** The read and its parameters, e.g. `products?first=2`. */
  resource: string;
  /** Personal answers depend on who asks; public ones do not. */
  personal: boolean;
  caller?: Caller;
}

export interface Computed<T> {
  value: T;
  /** False for anything that carries an error: it is answered, never stored. */
  cacheable: boolean;
}

export interface CachedValue<T> {
  value: T;
  hit: boolean;
}

export interface ResponseCache {
  read<T>(entry: CacheEntry, compute: () => Promise<Computed<T>>): Promise<CachedValue<T>>;
}

export interface ResponseCacheOptions {
  app: string;
  state: StateStore;
  ttlMs: number;
  logger: Logger;
  registry?: Registry;
}

export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  const { app, state, ttlMs, logger } = options;
  const lookups = options.registry
    ? singleMetric(options.registry, 'trellis_bff_cache_lookups_total', () => new Counter({ name: 'trellis_bff_cache_lookups_total', help: 'BFF response cache lookups', labelNames: ['app', 'outcome'], registers: [options.registry!] }))
    : undefined;

  const keyOf = ({ resource, personal, caller }: CacheEntry): string | undefined => {
    if (ttlMs === 0) return undefined;
    if (!personal) return `bff:${app}:cache:public:${resource}`;
    return caller ? `bff:${app}:cache:${caller.cacheKey}:${resource}` : undefined;
  };

  return {
    async read<T>(entry: CacheEntry, compute: () => Promise<Computed<T>>): Promise<CachedValue<T>> {
      const key = keyOf(entry);
      if (key) {
        try {
          const stored = await state.get(key);
          if (stored !== null) {
            lookups?.inc({ app, outcome: 'hit' });
            return { value: JSON.parse(stored) as T, hit: true };
          }
        } catch (error) {
          logger.warn({ err: error, key }, 'response cache unavailable; reading through');
        }
      }
      lookups?.inc({ app, outcome: 'miss' });
      const { value, cacheable } = await compute();
      if (key && cacheable) {
        // Awaited, so the caller's next read finds it.
        await state.set(key, JSON.stringify(value), { ttlMs }).catch((error) => logger.warn({ err: error, key }, 'response cache write failed'));
      }
      return { value, hit: false };
    },
  };
}
