/**
 * One clock for every host: Redis claims and leases due entries by its own TIME inside the script,
 * whatever the caller's clock says, and an orchestrator whose host clock is an hour off still
 * writes due times and deadlines in the store's time (StoreClock).
 */
import { RedisStateStore } from '@trellis/kit/internal/state';
import { InMemoryEventBus } from '@trellis/kit/internal/events';
import { createLogger } from '@trellis/kit/internal/logging';
import { SagaOrchestrator, type SagaDefinition } from '@trellis/kit/internal/saga';
import { StoreClock } from '@trellis/kit/internal/saga/storeClock';
import { systemClock, type Clock } from '@trellis/kit/saga';
import { realBackends, uniquePrefix } from '../../support/backends';

const HOUR = 3600_000;

describe('Redis as the one clock', () => {
  let store: RedisStateStore;
  beforeEach(() => {
    store = new RedisStateStore({ url: realBackends.redisUrl, keyPrefix: uniquePrefix('clock') + ':' });
  });
  afterEach(() => store.close());

  it("claims by the server's TIME: a caller far behind or far ahead changes nothing", async () => {
    const now = await store.time();
    await store.compareAndSetMany([
      { key: '{t}due', expectedVersion: 0, value: 'a', due: { index: '{t}jobs', at: now - 1000 } },
      { key: '{t}later', expectedVersion: 0, value: 'b', due: { index: '{t}jobs', at: now + 600_000 } },
    ]);
    // A caller whose clock says 1970 still gets what is due; one that says the far future gets nothing early.
    expect(await store.claimDue('{t}jobs', Number.MAX_SAFE_INTEGER, { limit: 10, leaseMs: 0 })).toEqual(['{t}due']);
    expect(await store.claimDue('{t}jobs', 0, { limit: 10, leaseMs: 600_000 })).toEqual(['{t}due']);
    // The lease runs from the server's time, not from the caller's 0: not due again to any caller.
    expect(await store.claimDue('{t}jobs', 1_000_000, { limit: 10, leaseMs: 0 })).toEqual([]);
    expect(await store.claimDue('{t}jobs', Number.MAX_SAFE_INTEGER, { limit: 10, leaseMs: 0 })).toEqual([]);
  });

  it("writes a skewed host's deadlines in the store's time", async () => {
    const definition: SagaDefinition = {
      name: 'demo',
      steps: [{ name: 'one', participant: 'alpha', command: 'doOne', payload: () => ({}), timeoutMs: 5000, retry: { maxAttempts: 1, backoffMs: 10, maxBackoffMs: 10 } }],
    };
    const ahead: Clock = { now: () => Date.now() + HOUR, setTimeout: systemClock.setTimeout };
    const orchestrator = new SagaOrchestrator({
      state: store,
      events: new InMemoryEventBus(),
      logger: createLogger({ service: 'test', level: 'silent' }),
      definitions: [definition],
      // The host's clock an hour ahead, set right by the store's, as every orchestrator's is by default.
      clock: new StoreClock(store, ahead),
      sweepIntervalMs: 600_000,
    });
    await orchestrator.start();
    try {
      const before = await store.time();
      const record = await orchestrator.startSaga('demo', {}, { id: 's1' });
      const after = await store.time();
      // The host says an hour later; the record says the store's time (give or take half a round trip).
      const created = Date.parse(record.createdAt);
      expect(created).toBeGreaterThanOrEqual(before - 50);
      expect(created).toBeLessThanOrEqual(after + 50);
      expect(record.steps[0].deadline).toBe(created + 5000);
    } finally {
      await orchestrator.stop();
    }
  });
});
