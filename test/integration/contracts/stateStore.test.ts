/** One contract, three implementations: in-memory, through the dev hub, and real Redis. */
import { InMemoryStateStore, RedisStateStore, type StateStore } from '../../../shared/state';
import { DevHubClient, DevHubServer } from '../../../shared/devhub';
import { eventually } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';

interface Subject {
  store: StateStore;
  close: () => Promise<void>;
}

const implementations: Array<[string, () => Promise<Subject>]> = [
  ['in-memory', async () => ({ store: new InMemoryStateStore(), close: async () => undefined })],
  [
    'dev hub',
    async () => {
      const server = new DevHubServer({ targets: { state: new InMemoryStateStore() } });
      const client = await DevHubClient.connect(await server.start());
      return { store: client.remote<StateStore>('state'), close: async () => (await client.close(), await server.stop()) };
    },
  ],
  [
    'redis',
    async () => {
      const store = new RedisStateStore({ url: realBackends.redisUrl, keyPrefix: uniquePrefix('state') + ':' });
      return { store, close: () => store.close() };
    },
  ],
];

describe.each(implementations)('StateStore contract: %s', (_name, make) => {
  let subject: Subject;
  let store: StateStore;
  beforeEach(async () => {
    subject = await make();
    store = subject.store;
  });
  afterEach(() => subject.close());

  it('gets what was set, and null for a missing or deleted key', async () => {
    expect(await store.get('missing')).toBeNull();
    await store.set('a', 'one');
    expect(await store.get('a')).toBe('one');
    await store.delete('a');
    expect(await store.get('a')).toBeNull();
  });

  it('expires a key after its TTL', async () => {
    await store.set('short', 'v', { ttlMs: 150 });
    expect(await store.get('short')).toBe('v');
    await eventually(async () => expect(await store.get('short')).toBeNull(), 2000);
  });

  it('sets if absent only once', async () => {
    expect(await store.setIfAbsent('once', 'first')).toBe(true);
    expect(await store.setIfAbsent('once', 'second')).toBe(false);
    expect(await store.get('once')).toBe('first');
  });

  it('counts within a fixed window', async () => {
    const first = await store.increment('rate', 60_000);
    const second = await store.increment('rate', 60_000);
    expect([first.count, second.count]).toEqual([1, 2]);
    expect(second.ttlMs).toBeGreaterThan(50_000);
    expect(second.ttlMs).toBeLessThanOrEqual(60_000);
  });

  it('compare-and-set: creates at version 0, advances one version at a time, refuses a stale version', async () => {
    expect(await store.getVersioned('saga')).toBeNull();
    expect(await store.compareAndSet('saga', 0, 'created')).toBe(1);
    expect(await store.compareAndSet('saga', 0, 'again')).toBeNull();
    expect(await store.compareAndSet('saga', 1, 'running')).toBe(2);
    expect(await store.compareAndSet('saga', 1, 'stale')).toBeNull();
    expect(await store.getVersioned('saga')).toEqual({ value: 'running', version: 2 });
  });

  it('compare-and-set many: all or nothing', async () => {
    expect(await store.compareAndSetMany([{ key: 'stock', expectedVersion: 0, value: '10' }])).toEqual([1]);
    const conflict = await store.compareAndSetMany([
      { key: 'stock', expectedVersion: 1, value: '8' },
      { key: 'dedupe', expectedVersion: 1, value: 'done' },
    ]);
    expect(conflict).toBeNull();
    expect(await store.getVersioned('stock')).toEqual({ value: '10', version: 1 });
    expect(await store.getVersioned('dedupe')).toBeNull();
    expect(
      await store.compareAndSetMany([
        { key: 'stock', expectedVersion: 1, value: '8' },
        { key: 'dedupe', expectedVersion: 0, value: 'done' },
      ]),
    ).toEqual([2, 1]);
  });

  it('lets exactly one of many concurrent writers win a version', async () => {
    await store.compareAndSet('race', 0, 'start');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.compareAndSet('race', 1, `writer-${i}`)));
    expect(results.filter((version) => version === 2)).toHaveLength(1);
  });

  it('lists keys by prefix', async () => {
    await store.compareAndSet('saga:1', 0, 'x');
    await store.compareAndSet('saga:2', 0, 'y');
    await store.set('other:1', 'z');
    expect((await store.keys('saga:')).sort()).toEqual(['saga:1', 'saga:2']);
  });

  it('delivers published messages to subscribers until they unsubscribe', async () => {
    const received: string[] = [];
    const unsubscribe = await store.subscribe('news', (message) => received.push(message));
    await store.publish('news', 'one');
    await eventually(async () => expect(received).toEqual(['one']));
    await unsubscribe();
    await store.publish('news', 'two');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toEqual(['one']);
  });
});
