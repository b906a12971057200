/** The cache port without CACHE_REDIS_URL: the state store itself, so caches work as before on every backend. */
import { DevHubServer } from '@trellis/kit/internal/devhub';
import { InMemoryDiscovery } from '@trellis/kit/internal/discovery';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { InMemoryEventBus } from '@trellis/kit/internal/events';
import { connectBackends } from '@trellis/kit/internal/backends';
import { loadConfig } from '@trellis/kit/internal/config';
import { createLogger } from '@trellis/kit/internal/logging';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('Backends.cache without CACHE_REDIS_URL', () => {
  it('is the in-memory state store of this process', async () => {
    const backends = await connectBackends(loadConfig({}), logger, { uses: ['state'] });
    try {
      expect(backends.kinds.cache).toBe('memory');
      expect(backends.cache).toBe(backends.state);
    } finally {
      await backends.close();
    }
  });

  it("is the dev hub's state store, shared with the other processes", async () => {
    const hubState = new InMemoryStateStore();
    const hub = new DevHubServer({ targets: { discovery: new InMemoryDiscovery(), state: hubState, events: new InMemoryEventBus() } });
    const url = await hub.start();
    const backends = await connectBackends(loadConfig({ TRELLIS_DEVHUB_URL: url }), logger, { uses: ['state'] });
    try {
      expect(backends.kinds.cache).toBe('devhub');
      await backends.cache.set('gateway:apq:abc', '{ x }');
      expect(await hubState.get('gateway:apq:abc')).toBe('{ x }');
    } finally {
      await backends.close();
      await hub.stop();
    }
  });

  it('is not connected in a process that does not use the state port', async () => {
    const backends = await connectBackends(loadConfig({ CACHE_REDIS_URL: 'redis://127.0.0.1:1' }), logger, { uses: ['events'] });
    try {
      expect(backends.kinds.cache).toBeUndefined();
      expect(() => backends.cache.get('k')).toThrow(/the state port was not connected in this process/);
    } finally {
      await backends.close();
    }
  });
});
