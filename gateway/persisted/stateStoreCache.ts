/**
 * Apollo Server's APQ cache interface over the StateStore port (memory or Redis), with TTLs. A
 * lookup that fails (the store is down) is a miss, as Apollo's ErrorsAreMissesCache makes it: the
 * client sends the query again and it runs; a failed registration Apollo Server already only logs.
 */
import type { PersistedQueryOptions } from '@apollo/server';
import type { StateStore } from '@trellis/kit';
import type { Logger } from '@trellis/kit';
import { errorMessage } from '@trellis/kit/internal';

type KeyValueCache = NonNullable<PersistedQueryOptions['cache']>;

export class StateStoreQueryCache implements KeyValueCache {
  constructor(
    private readonly state: StateStore,
    /** Before Apollo Server's own `apq:` prefix, so the gateway's keys stand apart in a shared store. */
    private readonly prefix = 'gateway:',
    private readonly onStoreError?: (error: unknown) => void,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.state.get(this.prefix + key)) ?? undefined;
    } catch (error) {
      if (!this.onStoreError) throw error;
      this.onStoreError(error);
      return undefined;
    }
  }

  /** `ttl` is in seconds (Apollo's unit); null or absent means no expiry. */
  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    await this.state.set(this.prefix + key, value, options?.ttl ? { ttlMs: options.ttl * 1000 } : {});
  }

  async delete(key: string): Promise<void> {
    await this.state.delete(this.prefix + key);
  }
}

/** Counts and logs a failed lookup (a miss to the client). */
export function storeErrorsAsMisses(logger: Logger, count: () => void): (error: unknown) => void {
  return (error) => {
    count();
    logger.warn({ err: errorMessage(error) }, 'persisted query lookup failed; treated as a miss');
  };
}
