/** Apollo's APQ cache over the state store: TTLs in seconds, the gateway's key prefix, and a store outage served as a miss. */
import { StateStoreQueryCache } from '../../../../gateway/persisted';
import { storeErrorsAsMisses } from '../../../../gateway/persisted/stateStoreCache';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { recordingLogger } from '../../../support/recordingLogger';

function clockedStore() {
  let now = 0;
  return { state: new InMemoryStateStore({ now: () => now }), advance: (ms: number) => void (now += ms) };
}

const unreachable = () => {
  const state = new InMemoryStateStore();
  state.get = async () => {
    throw new Error('redis down');
  };
  return state;
};

describe('StateStoreQueryCache', () => {
  it('keeps a query under the gateway prefix, for its TTL in seconds', async () => {
    const { state, advance } = clockedStore();
    const cache = new StateStoreQueryCache(state);
    await cache.set('apq:abc', '{ a }', { ttl: 2 });
    expect(await state.get('gateway:apq:abc')).toBe('{ a }');
    advance(1999);
    expect(await cache.get('apq:abc')).toBe('{ a }');
    advance(1);
    expect(await cache.get('apq:abc')).toBeUndefined();
  });

  it.each([[{ ttl: null }], [{}], [undefined], [{ ttl: 0 }]])(
    'keeps a query with no expiry when the TTL is %j',
    async (options) => {
      const { state, advance } = clockedStore();
      const cache = new StateStoreQueryCache(state, 'p:');
      await cache.set('k', '{ a }', options);
      advance(365 * 24 * 3600 * 1000);
      expect(await cache.get('k')).toBe('{ a }');
      expect(await state.get('p:k')).toBe('{ a }');
    },
  );

  it('deletes a query', async () => {
    const { state } = clockedStore();
    const cache = new StateStoreQueryCache(state);
    await cache.set('k', '{ a }');
    await cache.delete('k');
    expect(await cache.get('k')).toBeUndefined();
  });

  it('answers a lookup the store cannot serve as a miss when told to, once counted and logged', async () => {
    const { logger, lines } = recordingLogger();
    let counted = 0;
    const cache = new StateStoreQueryCache(
      unreachable(),
      undefined,
      storeErrorsAsMisses(logger, () => (counted += 1)),
    );
    await expect(cache.get('apq:abc')).resolves.toBeUndefined();
    expect(counted).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'persisted query lookup failed; treated as a miss',
        err: 'redis down',
      }),
    ]);
  });

  it('passes the store error on when given no way to handle it', async () => {
    await expect(new StateStoreQueryCache(unreachable()).get('k')).rejects.toThrow('redis down');
  });
});
