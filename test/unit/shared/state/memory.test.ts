/**
 * The embedded state store, on a clock the test moves: TTLs, counter windows, versions, due
 * indexes and pub/sub behave as the Redis adapter's (the shared contract against real Redis is
 * test/integration/contracts/stateStore.test.ts).
 */
import { InMemoryStateStore } from '@trellis/kit/internal/state';

function storeAt(start = 1_000) {
  let now = start;
  const store = new InMemoryStateStore({ now: () => now });
  return { store, advance: (ms: number) => void (now += ms), at: () => now };
}

const delivered = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('InMemoryStateStore', () => {
  it('keeps a key with a TTL until the TTL has passed, and one without for ever', async () => {
    const { store, advance } = storeAt();
    await store.set('short', 'v', { ttlMs: 100 });
    await store.set('forever', 'w');
    advance(99);
    expect(await store.get('short')).toBe('v');
    advance(1);
    expect(await store.get('short')).toBeNull();
    advance(1_000_000);
    expect(await store.get('forever')).toBe('w');
  });

  it('set without a TTL replaces an earlier TTL', async () => {
    const { store, advance } = storeAt();
    await store.set('k', 'one', { ttlMs: 100 });
    await store.set('k', 'two');
    advance(200);
    expect(await store.get('k')).toBe('two');
  });

  it('writes if absent only while the key is absent or expired, with its own TTL', async () => {
    const { store, advance } = storeAt();
    expect(await store.setIfAbsent('once', 'first', { ttlMs: 50 })).toBe(true);
    expect(await store.setIfAbsent('once', 'second')).toBe(false);
    expect(await store.get('once')).toBe('first');
    advance(50);
    expect(await store.setIfAbsent('once', 'third')).toBe(true);
    expect(await store.getVersioned('once')).toEqual({ value: 'third', version: 1 });
    advance(1_000_000);
    expect(await store.get('once')).toBe('third');
  });

  it('deletes a key', async () => {
    const { store } = storeAt();
    await store.set('k', 'v');
    await store.delete('k');
    expect(await store.get('k')).toBeNull();
    expect(await store.getVersioned('k')).toBeNull();
  });

  it('counts in a fixed window that starts at the first increment and says how long it has left', async () => {
    const { store, advance } = storeAt();
    expect(await store.increment('hits', 1000)).toEqual({ count: 1, ttlMs: 1000 });
    advance(400);
    expect(await store.increment('hits', 1000)).toEqual({ count: 2, ttlMs: 600 });
    advance(599);
    expect(await store.increment('hits', 1000)).toEqual({ count: 3, ttlMs: 1 });
    advance(1);
    expect(await store.increment('hits', 1000)).toEqual({ count: 1, ttlMs: 1000 });
  });

  it('counts on a key that was set without a TTL, with no time left to report', async () => {
    const { store } = storeAt();
    await store.set('hits', '5');
    expect(await store.increment('hits', 1000)).toEqual({ count: 6, ttlMs: 0 });
    expect(await store.getVersioned('hits')).toEqual({ value: '6', version: 2 });
  });

  it('versions plain writes: 1 on the first, one more on each, from 1 again after a delete or expiry', async () => {
    const { store, advance } = storeAt();
    await store.set('k', 'a');
    await store.set('k', 'b', { ttlMs: 10 });
    expect(await store.getVersioned('k')).toEqual({ value: 'b', version: 2 });
    advance(10);
    await store.set('k', 'c');
    expect(await store.getVersioned('k')).toEqual({ value: 'c', version: 1 });
  });

  it('compare-and-set: creates at version 0, advances one version at a time, refuses a stale or absent version', async () => {
    const { store } = storeAt();
    expect(await store.compareAndSet('r', 1, 'x')).toBeNull();
    expect(await store.compareAndSet('r', 0, 'one')).toBe(1);
    expect(await store.compareAndSet('r', 0, 'again')).toBeNull();
    expect(await store.compareAndSet('r', 1, 'two')).toBe(2);
    expect(await store.getVersioned('r')).toEqual({ value: 'two', version: 2 });
  });

  it('compare-and-set honours its TTL', async () => {
    const { store, advance } = storeAt();
    await store.compareAndSet('r', 0, 'one', { ttlMs: 30 });
    advance(29);
    expect(await store.get('r')).toBe('one');
    advance(1);
    expect(await store.getVersioned('r')).toBeNull();
  });

  it('compare-and-set many: all or nothing, guarded by checks that are not written', async () => {
    const { store } = storeAt();
    await store.compareAndSet('guard', 0, 'g');
    expect(
      await store.compareAndSetMany(
        [
          { key: 'a', expectedVersion: 0, value: 'A' },
          { key: 'b', expectedVersion: 0, value: 'B' },
        ],
        [{ key: 'guard', expectedVersion: 2 }],
      ),
    ).toBeNull();
    expect(await store.get('a')).toBeNull();
    expect(
      await store.compareAndSetMany(
        [
          { key: 'a', expectedVersion: 0, value: 'A' },
          { key: 'b', expectedVersion: 1, value: 'B' },
        ],
        [{ key: 'guard', expectedVersion: 1 }],
      ),
    ).toBeNull();
    expect(await store.get('a')).toBeNull();
    expect(
      await store.compareAndSetMany(
        [
          { key: 'a', expectedVersion: 0, value: 'A' },
          { key: 'b', expectedVersion: 0, value: 'B' },
        ],
        [{ key: 'guard', expectedVersion: 1 }],
      ),
    ).toEqual([1, 1]);
    expect(await store.getVersioned('guard')).toEqual({ value: 'g', version: 1 });
    expect(await store.compareAndSetMany([{ key: 'a', expectedVersion: 1, value: 'A2', ttlMs: 5 }])).toEqual([2]);
  });

  it('files keys in a due index with their write, claims the due ones earliest first up to the limit, and leases them', async () => {
    const { store } = storeAt();
    await store.compareAndSetMany([
      { key: 'late', expectedVersion: 0, value: 'x', due: { index: 'due', at: 300 } },
      { key: 'early', expectedVersion: 0, value: 'x', due: { index: 'due', at: 100 } },
      { key: 'middle', expectedVersion: 0, value: 'x', due: { index: 'due', at: 200 } },
      { key: 'future', expectedVersion: 0, value: 'x', due: { index: 'due', at: 1000 } },
      { key: 'elsewhere', expectedVersion: 0, value: 'x', due: { index: 'other', at: 0 } },
    ]);
    expect(await store.claimDue('due', 300, { limit: 2, leaseMs: 100 })).toEqual(['early', 'middle']);
    expect(await store.claimDue('due', 300, { limit: 10, leaseMs: 100 })).toEqual(['late']);
    expect(await store.claimDue('due', 399, { limit: 10, leaseMs: 100 })).toEqual([]);
    expect((await store.claimDue('due', 400, { limit: 10, leaseMs: 100 })).sort()).toEqual(['early', 'late', 'middle']);
    expect(await store.claimDue('nothing', 400, { limit: 10, leaseMs: 100 })).toEqual([]);
  });

  it('reads an index by score, ties by member as Redis orders them, either way round, at most a limit', async () => {
    const { store } = storeAt();
    await store.compareAndSetMany(['b', 'a', 'c', 'd'].map((key, i) => ({ key, expectedVersion: 0, value: 'x', due: { index: 'due', at: i < 3 ? 100 : 50 } })));
    expect(await store.readIndex('due', { limit: 10 })).toEqual({ entries: [{ key: 'd', at: 50 }, { key: 'a', at: 100 }, { key: 'b', at: 100 }, { key: 'c', at: 100 }], size: 4 });
    expect(await store.readIndex('due', { limit: 2, latestFirst: true })).toEqual({ entries: [{ key: 'c', at: 100 }, { key: 'b', at: 100 }], size: 4 });
    expect(await store.readIndex('due', { limit: 1.9 })).toEqual({ entries: [{ key: 'd', at: 50 }], size: 4 });
    expect(await store.readIndex('due', { limit: -1 })).toEqual({ entries: [], size: 4 });
    expect(await store.readIndex('none', { limit: 5 })).toEqual({ entries: [], size: 0 });
  });

  it('keeps the latest `keep` of a recent index, at least one', async () => {
    const { store } = storeAt();
    const finish = (key: string, at: number, keep: number) => store.compareAndSetMany([{ key, expectedVersion: 0, value: 'x', recent: { index: 'recent', at, keep } }]);
    await finish('a', 1, 2);
    await finish('b', 3, 2);
    await finish('c', 2, 2);
    expect(await store.readIndex('recent', { limit: 10, latestFirst: true })).toEqual({ entries: [{ key: 'b', at: 3 }, { key: 'c', at: 2 }], size: 2 });
    await finish('d', 0, 0);
    expect(await store.readIndex('recent', { limit: 10, latestFirst: true })).toEqual({ entries: [{ key: 'b', at: 3 }], size: 1 });
  });

  it('takes a key out of its due index with a write whose due time is null', async () => {
    const { store } = storeAt();
    await store.compareAndSet('a', 0, 'x');
    await store.compareAndSetMany([{ key: 'a', expectedVersion: 1, value: 'y', due: { index: 'due', at: 10 } }]);
    await store.compareAndSetMany([{ key: 'a', expectedVersion: 2, value: 'z', due: { index: 'due', at: null } }]);
    expect(await store.claimDue('due', 1_000_000, { limit: 10, leaseMs: 1 })).toEqual([]);
  });

  it('lists the live keys that start with a prefix', async () => {
    const { store, advance } = storeAt();
    await store.set('saga:1', 'a');
    await store.compareAndSet('saga:2', 0, 'b');
    await store.set('saga:3', 'c', { ttlMs: 10 });
    await store.set('other:saga:4', 'd');
    advance(10);
    expect((await store.keys('saga:')).sort()).toEqual(['saga:1', 'saga:2']);
  });

  it('delivers a published message to every subscriber of its channel, after publish returns', async () => {
    const { store } = storeAt();
    const first: string[] = [];
    const second: string[] = [];
    const other: string[] = [];
    await store.subscribe('ch', (message) => first.push(message));
    await store.subscribe('ch', (message) => second.push(message));
    await store.subscribe('other', (message) => other.push(message));
    const published = store.publish('ch', 'hello');
    expect(first).toEqual([]);
    await published;
    await delivered();
    expect([first, second, other]).toEqual([['hello'], ['hello'], []]);
  });

  it('stops delivering to a subscriber that unsubscribed, and keeps delivering to the others', async () => {
    const { store } = storeAt();
    const gone: string[] = [];
    const kept: string[] = [];
    const unsubscribe = await store.subscribe('ch', (message) => gone.push(message));
    const unsubscribeKept = await store.subscribe('ch', (message) => kept.push(message));
    await unsubscribe();
    await store.publish('ch', 'one');
    await delivered();
    await unsubscribeKept();
    const later: string[] = [];
    await store.subscribe('ch', (message) => later.push(message));
    await store.publish('ch', 'two');
    await delivered();
    expect({ gone, kept, later }).toEqual({ gone: [], kept: ['one'], later: ['two'] });
  });

  it('announces a compare-and-set on its channel only when the write is made', async () => {
    const { store } = storeAt();
    const heard: string[] = [];
    await store.subscribe('changes', (message) => heard.push(message));
    await store.compareAndSetMany([
      { key: 'a', expectedVersion: 0, value: 'x', announce: { channel: 'changes', message: 'a@1' } },
    ]);
    await store.compareAndSetMany([
      { key: 'a', expectedVersion: 0, value: 'y', announce: { channel: 'changes', message: 'lost' } },
    ]);
    await delivered();
    expect(heard).toEqual(['a@1']);
  });

  it('delivers nothing after it closes', async () => {
    const { store } = storeAt();
    const heard: string[] = [];
    await store.subscribe('ch', (message) => heard.push(message));
    await store.close();
    await store.publish('ch', 'late');
    await delivered();
    expect(heard).toEqual([]);
  });

  it('runs on the system clock when given none', async () => {
    const store = new InMemoryStateStore();
    await store.set('k', 'v', { ttlMs: 60_000 });
    expect(await store.get('k')).toBe('v');
    await store.set('gone', 'v', { ttlMs: -1 });
    expect(await store.get('gone')).toBeNull();
  });
});
