/**
 * One contract, five implementations: in-memory, through the dev hub, and real Redis standalone,
 * behind Sentinel and as a Cluster (private servers: CI runs no cluster profile). Keys written
 * together in one atomic call share a hash tag (`{t}`), as the saga engine's keys do, so the same
 * test holds on Cluster, where a script runs in one slot.
 */
import { InMemoryStateStore, RedisStateStore, type RedisTopology, type StateStore } from '@trellis/kit/internal/state';
import { DevHubClient, DevHubServer } from '@trellis/kit/internal/devhub';
import { eventually } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';
import { privateCluster, privateSentinelSet } from '../../support/privateRedisTopologies';

interface Subject {
  store: StateStore;
  close: () => Promise<void>;
}

interface Implementation {
  /** Servers of its own, started once for its tests. */
  start?: () => Promise<void>;
  make: () => Promise<Subject>;
  stop?: () => Promise<void>;
}

/** A Redis topology whose servers this suite starts and stops. */
function privateRedis(start: () => Promise<{ topology: RedisTopology; stop(): Promise<void> }>): Implementation {
  let servers: { topology: RedisTopology; stop(): Promise<void> } | undefined;
  return {
    start: async () => void (servers = await start()),
    make: async () => {
      const store = new RedisStateStore({ topology: servers!.topology, keyPrefix: uniquePrefix('state') + ':' });
      return { store, close: () => store.close() };
    },
    stop: async () => servers?.stop(),
  };
}

const implementations: Array<[string, Implementation]> = [
  ['in-memory', { make: async () => ({ store: new InMemoryStateStore(), close: async () => undefined }) }],
  [
    'dev hub',
    {
      make: async () => {
        const server = new DevHubServer({ targets: { state: new InMemoryStateStore() } });
        const client = await DevHubClient.connect(await server.start());
        return { store: client.remote<StateStore>('state'), close: async () => (await client.close(), await server.stop()) };
      },
    },
  ],
  [
    'redis',
    {
      make: async () => {
        const store = new RedisStateStore({ url: realBackends.redisUrl, keyPrefix: uniquePrefix('state') + ':' });
        return { store, close: () => store.close() };
      },
    },
  ],
  ['redis sentinel', privateRedis(privateSentinelSet)],
  ['redis cluster', privateRedis(privateCluster)],
];

describe.each(implementations)('StateStore contract: %s', (_name, implementation) => {
  let subject: Subject;
  let store: StateStore;
  beforeAll(async () => implementation.start?.(), 90_000);
  afterAll(async () => implementation.stop?.());
  beforeEach(async () => {
    subject = await implementation.make();
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

  it('reads several versioned keys at once, in the order asked, null for a missing one', async () => {
    expect(await store.getVersionedMany([])).toEqual([]);
    await store.compareAndSet('first', 0, 'one');
    await store.compareAndSet('second', 0, 'two');
    await store.compareAndSet('second', 1, 'two again');
    expect(await store.getVersionedMany(['second', 'missing', 'first', 'second'])).toEqual([{ value: 'two again', version: 2 }, null, { value: 'one', version: 1 }, { value: 'two again', version: 2 }]);
  });

  it('compare-and-set many: all or nothing', async () => {
    expect(await store.compareAndSetMany([{ key: '{t}stock', expectedVersion: 0, value: '10' }])).toEqual([1]);
    const conflict = await store.compareAndSetMany([
      { key: '{t}stock', expectedVersion: 1, value: '8' },
      { key: '{t}dedupe', expectedVersion: 1, value: 'done' },
    ]);
    expect(conflict).toBeNull();
    expect(await store.getVersioned('{t}stock')).toEqual({ value: '10', version: 1 });
    expect(await store.getVersioned('{t}dedupe')).toBeNull();
    expect(
      await store.compareAndSetMany([
        { key: '{t}stock', expectedVersion: 1, value: '8' },
        { key: '{t}dedupe', expectedVersion: 0, value: 'done' },
      ]),
    ).toEqual([2, 1]);
  });

  it('compare-and-set many: a check guards the write without being written', async () => {
    await store.compareAndSet('{t}guard', 0, 'g1');
    expect(await store.compareAndSetMany([{ key: '{t}guarded', expectedVersion: 0, value: 'x' }], [{ key: '{t}guard', expectedVersion: 0 }])).toBeNull();
    expect(await store.getVersioned('{t}guarded')).toBeNull();
    expect(await store.compareAndSetMany([{ key: '{t}guarded', expectedVersion: 0, value: 'x' }], [{ key: '{t}guard', expectedVersion: 1 }])).toEqual([1]);
    expect(await store.getVersioned('{t}guard')).toEqual({ value: 'g1', version: 1 });
    // A check that a key is still absent.
    expect(await store.compareAndSetMany([{ key: '{t}other', expectedVersion: 0, value: 'y' }], [{ key: '{t}never-written', expectedVersion: 0 }])).toEqual([1]);
  });

  it('files keys in a due index with their write, and claims each due key once per lease, by the store\'s clock', async () => {
    // Times relative to the store's clock: Redis claims by its own TIME, the in-memory store by the caller's.
    const now = await store.time();
    await store.compareAndSetMany([
      { key: '{t}job:a', expectedVersion: 0, value: 'a', due: { index: '{t}jobs', at: now - 1000 } },
      { key: '{t}job:b', expectedVersion: 0, value: 'b', due: { index: '{t}jobs', at: now + 600_000 } },
    ]);
    // A refused write files nothing.
    expect(await store.compareAndSetMany([{ key: '{t}job:c', expectedVersion: 5, value: 'c', due: { index: '{t}jobs', at: now - 1000 } }])).toBeNull();
    expect(await store.claimDue('{t}jobs', now, { limit: 10, leaseMs: 600_000 })).toEqual(['{t}job:a']);
    // Leased: not due again until the lease ends; b is not due yet.
    expect(await store.claimDue('{t}jobs', now, { limit: 10, leaseMs: 600_000 })).toEqual([]);
    // A lease of 0 ends at once: due again at the next claim.
    await store.compareAndSetMany([
      { key: '{t}job:a', expectedVersion: 1, value: 'a2', due: { index: '{t}jobs', at: now - 500 } },
      { key: '{t}job:b', expectedVersion: 1, value: 'b2', due: { index: '{t}jobs', at: now - 400 } },
    ]);
    expect(await store.claimDue('{t}jobs', now, { limit: 1, leaseMs: 0 })).toEqual(['{t}job:a']);
    expect((await store.claimDue('{t}jobs', now, { limit: 10, leaseMs: 0 })).sort()).toEqual(['{t}job:a', '{t}job:b']);
    // Taken out with a write: never claimed again; a re-filed key is due at its new time.
    await store.compareAndSetMany([
      { key: '{t}job:a', expectedVersion: 2, value: 'a3', due: { index: '{t}jobs', at: null } },
      { key: '{t}job:b', expectedVersion: 2, value: 'b3', due: { index: '{t}jobs', at: now + 600_000 } },
    ]);
    expect(await store.claimDue('{t}jobs', now, { limit: 10, leaseMs: 0 })).toEqual([]);
  });

  it('tells the time by its clock, in ms since the epoch', async () => {
    const before = Date.now();
    const time = await store.time();
    // The test servers run on this host: its clock and theirs agree to well within a second.
    expect(Math.abs(time - before)).toBeLessThan(1000);
    expect(Number.isInteger(time)).toBe(true);
    expect(await store.time()).toBeGreaterThanOrEqual(time);
  });

  it('reads an index in score order, at most a limit, with its size, and claims nothing', async () => {
    expect(await store.readIndex('{t}empty', { limit: 5 })).toEqual({ entries: [], size: 0 });
    // Times relative to the store's clock, which Redis claims by (its TIME).
    const now = await store.time();
    const [a, b, c] = [now - 3000, now - 2000, now + 600_000];
    await store.compareAndSetMany([
      { key: '{t}r:b', expectedVersion: 0, value: 'b', due: { index: '{t}due', at: b } },
      { key: '{t}r:a', expectedVersion: 0, value: 'a', due: { index: '{t}due', at: a } },
      { key: '{t}r:c', expectedVersion: 0, value: 'c', due: { index: '{t}due', at: c } },
    ]);
    expect(await store.readIndex('{t}due', { limit: 2 })).toEqual({ entries: [{ key: '{t}r:a', at: a }, { key: '{t}r:b', at: b }], size: 3 });
    expect(await store.readIndex('{t}due', { limit: 10, latestFirst: true })).toEqual({
      entries: [{ key: '{t}r:c', at: c }, { key: '{t}r:b', at: b }, { key: '{t}r:a', at: a }],
      size: 3,
    });
    expect(await store.readIndex('{t}due', { limit: 0 })).toEqual({ entries: [], size: 3 });
    // A read leaves every entry where it was: the two past ones still due, the future one not.
    expect((await store.claimDue('{t}due', now, { limit: 10, leaseMs: 600_000 })).sort()).toEqual(['{t}r:a', '{t}r:b']);
  });

  it('keeps a capped index of the latest keys, filed with their write only when the write is made', async () => {
    const finish = (key: string, at: number, expectedVersion = 0) =>
      store.compareAndSetMany([{ key, expectedVersion, value: 'done', due: { index: '{t}due', at: null }, recent: { index: '{t}recent', at, keep: 3 } }]);
    for (const [i, at] of [5000, 1000, 4000, 2000, 3000].entries()) expect(await finish(`{t}saga:${i}`, at)).toEqual([1]);
    // Only the 3 latest stay: the ones at 1000 and 2000 were trimmed as later ones came.
    expect(await store.readIndex('{t}recent', { limit: 10, latestFirst: true })).toEqual({
      entries: [{ key: '{t}saga:0', at: 5000 }, { key: '{t}saga:2', at: 4000 }, { key: '{t}saga:4', at: 3000 }],
      size: 3,
    });
    // A refused write files nothing; a key filed again moves to its new score, not twice.
    expect(await finish('{t}saga:9', 9000, 7)).toBeNull();
    expect(await finish('{t}saga:4', 6000, 1)).toEqual([2]);
    expect(await store.readIndex('{t}recent', { limit: 2, latestFirst: true })).toEqual({
      entries: [{ key: '{t}saga:4', at: 6000 }, { key: '{t}saga:0', at: 5000 }],
      size: 3,
    });
  });

  it('gives each due key to exactly one of many concurrent claimers', async () => {
    const now = await store.time();
    await store.compareAndSetMany(Array.from({ length: 20 }, (_, i) => ({ key: `{t}k${i}`, expectedVersion: 0, value: 'v', due: { index: '{t}idx', at: now - 1000 } })));
    const claims = await Promise.all(Array.from({ length: 5 }, () => store.claimDue('{t}idx', now, { limit: 8, leaseMs: 600_000 })));
    const all = claims.flat();
    expect(all).toHaveLength(20);
    expect(new Set(all).size).toBe(20);
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
    // A listener still subscribed hears 'two': by then the one that left would have heard it too.
    const witness: string[] = [];
    const stopWitness = await store.subscribe('news', (message) => witness.push(message));
    await store.publish('news', 'two');
    await eventually(async () => expect(witness).toEqual(['two']));
    await stopWitness();
    expect(received).toEqual(['one']);
  });

  it('announces a compare-and-set on its channel only when the write is made', async () => {
    const heard: string[] = [];
    const stop = await store.subscribe('record-news', (message) => heard.push(message));
    const announce = (message: string) => ({ channel: 'record-news', message });
    expect(await store.compareAndSetMany([{ key: 'rec', expectedVersion: 0, value: 'a', announce: announce('v1') }])).toEqual([1]);
    // A refused write (stale version) announces nothing; the next one made is heard after v1.
    expect(await store.compareAndSetMany([{ key: 'rec', expectedVersion: 0, value: 'b', announce: announce('stale') }])).toBeNull();
    expect(await store.compareAndSetMany([{ key: 'rec', expectedVersion: 1, value: 'c', announce: announce('v2') }])).toEqual([2]);
    await eventually(async () => expect(heard).toEqual(['v1', 'v2']));
    expect((await store.getVersioned('rec'))?.value).toBe('c');
    await stop();
  });
});
