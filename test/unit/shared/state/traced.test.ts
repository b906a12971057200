/** Every state-store call is a client span with the database conventions, and its answer passes through unchanged. */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { SpanKind } from '@opentelemetry/api';
import { InMemoryStateStore, STATE_ATTRIBUTES, tracedStateStore } from '@trellis/kit/internal/state';
import { recordSpans } from '../../../support/recordedSpans';

describe('tracedStateStore', () => {
  const exporter = recordSpans();

  const spans = (): Array<Pick<ReadableSpan, 'name' | 'kind' | 'attributes'>> =>
    exporter.getFinishedSpans().map(({ name, kind, attributes }) => ({ name, kind, attributes }));
  const client = (name: string, attributes: Record<string, unknown>) => ({ name, kind: SpanKind.CLIENT, attributes });

  it('names each call after its operation, with the key it touches, and returns what the store answers', async () => {
    const store = tracedStateStore(new InMemoryStateStore(), { system: 'trellis' });
    const on = (key: string, operation: string) => ({
      'db.system.name': 'trellis',
      'db.operation.name': operation,
      'trellis.state.key': key,
    });
    const heard: string[] = [];

    await store.set('a', '1', { ttlMs: 60_000 });
    expect(await store.get('a')).toBe('1');
    expect(await store.setIfAbsent('a', '2', {})).toBe(false);
    expect(await store.increment('n', 1000)).toEqual({ count: 1, ttlMs: 1000 });
    expect(await store.compareAndSet('v', 0, 'x', {})).toBe(1);
    expect(await store.getVersioned('v')).toEqual({ value: 'x', version: 1 });
    expect(await store.claimDue('due', 0, { limit: 1, leaseMs: 1 })).toEqual([]);
    expect(await store.keys('v')).toEqual(['v']);
    const unsubscribe = await store.subscribe('ch', (message) => heard.push(message));
    await store.publish('ch', 'hello');
    await store.delete('a');
    expect(await store.get('a')).toBeNull();
    await unsubscribe();
    expect(heard).toEqual(['hello']);

    expect(spans()).toEqual([
      client('set', on('a', 'set')),
      client('get', on('a', 'get')),
      client('setIfAbsent', on('a', 'setIfAbsent')),
      client('increment', on('n', 'increment')),
      client('compareAndSet', on('v', 'compareAndSet')),
      client('getVersioned', on('v', 'getVersioned')),
      client('claimDue', on('due', 'claimDue')),
      client('keys', on('v', 'keys')),
      client('subscribe', on('ch', 'subscribe')),
      client('publish', on('ch', 'publish')),
      client('delete', on('a', 'delete')),
      client('get', on('a', 'get')),
    ]);
  });

  it('gives a batch write its size (writes and checks) instead of a key', async () => {
    const store = tracedStateStore(new InMemoryStateStore(), { system: 'trellis' });
    await store.compareAndSetMany(
      [
        { key: 'a', expectedVersion: 0, value: 'x' },
        { key: 'b', expectedVersion: 0, value: 'y' },
      ],
      [{ key: 'c', expectedVersion: 0 }],
    );
    await store.compareAndSetMany([{ key: 'd', expectedVersion: 0, value: 'x' }]);
    expect(spans()).toEqual([
      client('compareAndSetMany', {
        'db.system.name': 'trellis',
        'db.operation.name': 'compareAndSetMany',
        'db.operation.batch.size': 3,
      }),
      client('compareAndSetMany', {
        'db.system.name': 'trellis',
        'db.operation.name': 'compareAndSetMany',
        'db.operation.batch.size': 1,
      }),
    ]);
    expect(await store.getVersioned('b')).toEqual({ value: 'y', version: 1 });
  });

  it.each([
    ['redis://cache.internal:6380/2', { 'server.address': 'cache.internal', 'server.port': 6380, 'db.namespace': '2' }],
    ['redis://cache.internal', { 'server.address': 'cache.internal', 'server.port': 6379, 'db.namespace': '0' }],
    ['redis://cache.internal:6379/', { 'server.address': 'cache.internal', 'server.port': 6379, 'db.namespace': '0' }],
    ['not a url', {}],
  ])('says where Redis is from the URL %s', async (url, where) => {
    const store = tracedStateStore(new InMemoryStateStore(), { system: 'redis', url });
    await store.get('k');
    expect(spans()).toEqual([
      client('get', { 'db.system.name': 'redis', 'db.operation.name': 'get', 'trellis.state.key': 'k', ...where }),
    ]);
  });

  it('records a failed call on its span and passes the error on', async () => {
    const failing = new InMemoryStateStore();
    failing.get = async () => {
      throw new Error('redis down');
    };
    const store = tracedStateStore(failing, { system: 'redis' });
    await expect(store.get('k')).rejects.toThrow('redis down');
    expect(exporter.getFinishedSpans().map((span) => span.status.code)).toEqual([2]);
  });

  it('closes the store without a span', async () => {
    const inner = new InMemoryStateStore();
    const store = tracedStateStore(inner, { system: 'trellis' });
    const heard: string[] = [];
    await inner.subscribe('ch', (message) => heard.push(message));
    await store.close();
    await inner.publish('ch', 'late');
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual([]);
    expect(spans()).toEqual([]);
  });

  it('names its attributes after the OpenTelemetry database conventions', () => {
    expect(STATE_ATTRIBUTES).toEqual({
      system: 'db.system.name',
      operation: 'db.operation.name',
      namespace: 'db.namespace',
      batchSize: 'db.operation.batch.size',
      serverAddress: 'server.address',
      serverPort: 'server.port',
      key: 'trellis.state.key',
    });
  });
});
