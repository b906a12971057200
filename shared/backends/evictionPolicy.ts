/**
 * The state store must never drop a key: an evicted saga record is a lost order, an evicted dedupe
 * key a second charge. Redis drops keys under memory pressure unless its maxmemory-policy is
 * `noeviction`, so the policy is read once at start: production refuses any other one (unless
 * TRELLIS_ALLOW_EVICTING_STATE_STORE), elsewhere it is a warning. Caches belong on CACHE_REDIS_URL.
 */
import type { Config } from '../config';
import { refuseUnsafe } from '../config';
import { errorMessage } from '../errors';
import type { Logger } from '../logging';

export interface EvictionPolicySource {
  evictionPolicy(): Promise<{ policy: string } | { unreadable: string }>;
}

export async function checkStateStoreEviction(store: EvictionPolicySource, config: Config, logger: Logger): Promise<void> {
  let answer: Awaited<ReturnType<EvictionPolicySource['evictionPolicy']>>;
  try {
    answer = await store.evictionPolicy();
  } catch (error) {
    // Starting while Redis is down is allowed (the store fails fast and recovers), so this cannot hold start-up either.
    logger.warn({ err: errorMessage(error) }, "the state store's maxmemory-policy was not checked: its Redis did not answer");
    return;
  }
  if ('unreadable' in answer) {
    logger.warn({ reason: answer.unreadable }, "the state store's maxmemory-policy cannot be read (CONFIG is disabled or not allowed there): make sure it is noeviction, or saga records and dedupe keys can be evicted");
    return;
  }
  if (answer.policy === 'noeviction') return;
  const problem = `the state store's Redis evicts keys under memory pressure (maxmemory-policy ${answer.policy}), so saga records and dedupe keys could vanish: set its maxmemory-policy to noeviction, and put caches on CACHE_REDIS_URL`;
  if (config.isProduction && !config.production.evictingStateStore) refuseUnsafe([{ problem, optOut: 'TRELLIS_ALLOW_EVICTING_STATE_STORE' }]);
  logger.warn({ maxmemoryPolicy: answer.policy }, problem);
}

/** The store once its policy is checked; closed before the refusal, so a refused process leaves no connection behind. */
export async function refusedIfEvicting<T extends EvictionPolicySource & { close(): Promise<void> }>(store: T, config: Config, logger: Logger): Promise<T> {
  try {
    await checkStateStoreEviction(store, config, logger);
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}
