/**
 * A limiter counting in any StateStore through its atomic `increment` (one INCR with a TTL set on
 * the first): the dev hub's shared store under `npm start`, so every process there shares a count.
 * rate-limiter-flexible keeps the accounting; this class only tells it how to store a count.
 */
import { createRequire } from 'node:module';
import { RateLimiterRes, type RateLimiterStoreAbstract as StoreAbstract } from 'rate-limiter-flexible';
import type { Counter, StateStore } from '../state/types';
import { flexibleOptions, fromFlexible } from './flexible';
import type { RateLimiter, RateLimitPolicy } from './types';

// The base every store-backed limiter extends (the library's README says so); its types export it, its index does not.
const RateLimiterStoreAbstract = createRequire(__filename)('rate-limiter-flexible/lib/RateLimiterStoreAbstract') as typeof StoreAbstract;

class StateStoreCounterStore extends RateLimiterStoreAbstract {
  constructor(
    private readonly state: StateStore,
    options: ReturnType<typeof flexibleOptions>,
  ) {
    super({ ...options, storeClient: state });
  }

  /** Only what `consume(key)` needs: one point at a time, never a forced expiry (block/set are not offered by the port). */
  async _upsert(rlKey: string, points: number, msDuration: number, forceExpire = false): Promise<Counter> {
    if (points !== 1 || forceExpire) throw new Error('the state store limiter counts one point at a time');
    return this.state.increment(rlKey, msDuration);
  }

  _getRateLimiterRes(_rlKey: string, changedPoints: number, counter: Counter): RateLimiterRes {
    return new RateLimiterRes(Math.max(this.points - counter.count, 0), counter.ttlMs, counter.count, counter.count === changedPoints);
  }

  async _get(): Promise<null> {
    throw new Error('the state store limiter does not read counts back');
  }

  async _delete(rlKey: string): Promise<boolean> {
    await this.state.delete(rlKey);
    return true;
  }
}

export function stateStoreRateLimiter(state: StateStore, policy: RateLimitPolicy, keyPrefix = policy.name): RateLimiter {
  return fromFlexible(policy, new StateStoreCounterStore(state, flexibleOptions(policy, keyPrefix)));
}
