/** The orchestrator's default clock: the host's, moved by its offset from the state store's, measured at the midpoint of the round trip. */
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { InMemoryEventBus } from '@trellis/kit/internal/events';
import { createLogger } from '@trellis/kit/internal/logging';
import { SagaOrchestrator, type SagaDefinition } from '@trellis/kit/internal/saga';
import { StoreClock } from '@trellis/kit/internal/saga/storeClock';
import { ManualClock } from '@trellis/kit/testing';

describe('StoreClock', () => {
  it("reads the host's clock until synced, then the store's through the offset, timers on the host's", async () => {
    const host = new ManualClock(1_000_000);
    let storeTime = 5_000_000;
    // The store's answer takes 40 ms to come back: the offset is taken at the midpoint.
    const time = async () => {
      host.advance(20);
      const answer = storeTime;
      host.advance(20);
      return answer;
    };
    const clock = new StoreClock({ time }, host);
    expect(clock.now()).toBe(1_000_000);
    await clock.sync();
    expect(host.current).toBe(1_000_040);
    expect(clock.now()).toBe(5_000_000 + 20);
    host.advance(1000);
    expect(clock.now()).toBe(5_001_020);
    storeTime = 999;
    await clock.sync();
    expect(clock.now()).toBe(999 + 20);
    let fired = false;
    clock.setTimeout(() => (fired = true), 100);
    expect(host.delays.at(-1)).toBe(100);
    host.advance(100);
    expect(fired).toBe(true);
  });

  it("is the orchestrator's clock by default: records carry the store's time, not the host's", async () => {
    const HOUR = 3600_000;
    const state = new InMemoryStateStore({ now: () => Date.now() + HOUR });
    const definition: SagaDefinition = {
      name: 'demo',
      steps: [{ name: 'one', participant: 'alpha', command: 'doOne', payload: () => ({}), timeoutMs: 5000, retry: { maxAttempts: 1, backoffMs: 10, maxBackoffMs: 10 } }],
    };
    const orchestrator = new SagaOrchestrator({ state, events: new InMemoryEventBus(), logger: createLogger({ service: 'test', level: 'silent' }), definitions: [definition], sweepIntervalMs: 600_000 });
    await orchestrator.start();
    try {
      const record = await orchestrator.startSaga('demo', {}, { id: 's1' });
      expect(Math.abs(Date.parse(record.createdAt) - (Date.now() + HOUR))).toBeLessThan(1000);
    } finally {
      await orchestrator.stop();
    }
  });
});
