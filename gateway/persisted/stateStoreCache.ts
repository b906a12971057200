/** Apollo Server's APQ cache interface over the StateStore port (memory or Redis), with TTLs. */
import type { PersistedQueryOptions } from '@apollo/server';
import type { StateStore } from '../../shared/state';

type KeyValueCache = NonNullable<PersistedQueryOptions['cache']>;

export class StateStoreQueryCache implements KeyValueCache {
  constructor(
    private readonly state: StateStore,
    /** Before Apollo Server's own `apq:` prefix, so the gateway's keys stand apart in a shared store. */
    private readonly prefix = 'gateway:',
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.state.get(this.prefix + key)) ?? undefined;
  }

  /** `ttl` is in seconds (Apollo's unit); null or absent means no expiry. */
  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    await this.state.set(this.prefix + key, value, options?.ttl ? { ttlMs: options.ttl * 1000 } : {});
  }

  async delete(key: string): Promise<void> {
    await this.state.delete(this.prefix + key);
  }
}
