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

  /**
   * Counts one request. The port only ever calls `consume(key)` (one point, no forced expiry), so
   * `points` is always 1; the library's get/delete/block/set are not offered, and its base class
   * answers them with its own "not implemented" error.
   */
  async _upsert(rlKey: string, _points: number, msDuration: number): Promise<Counter> {
    return this.state.increment(rlKey, msDuration);
  }

  _getRateLimiterRes(_rlKey: string, changedPoints: number, counter: Counter): RateLimiterRes {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: isFirstInDuration only paces execEvenly, which Trellis never turns on
    const isFirstInDuration = counter.count === changedPoints;
    return new RateLimiterRes(Math.max(this.points - counter.count, 0), counter.ttlMs, counter.count, isFirstInDuration);
  }
}

export function stateStoreRateLimiter(state: StateStore, policy: RateLimitPolicy, keyPrefix = policy.name): RateLimiter {
  return fromFlexible(policy, new StateStoreCounterStore(state, flexibleOptions(policy, keyPrefix)));
}
