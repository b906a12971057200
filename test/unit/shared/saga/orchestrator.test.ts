/**
 * The orchestrator's outbox, due index and sweeper, on the embedded backends with time driven by
 * hand: commands survive a bus outage, deadlines fire from the index, a failed sweep is retried,
 * and two orchestrators never send one retry twice.
 */
import { InMemoryEventBus, type EventBus, type EventMessage, type OutgoingMessage } from '@trellis/kit/internal/events';
import { InMemoryStateStore, type StateStore } from '@trellis/kit/internal/state';
import { BackendUnavailableError } from '@trellis/kit/internal/errors';
import { createLogger } from '@trellis/kit/internal/logging';
import { DEFAULT_DUE_SHARDS, dueIndexKey, dueShardOf, SagaOrchestrator, sagaKey, type SagaDefinition, type SagaRecord } from '@trellis/kit/internal/saga';
import { ManualClock } from '@trellis/kit/testing';


/** A bus that can be taken down: publishes fail with a retriable error while it is. */
class FlakyBus extends InMemoryEventBus {
  down = false;
  override async publish(topic: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void> {
    if (this.down) throw new BackendUnavailableError('kafka', 'broker down');
    return super.publish(topic, messages);
  }
}

const definition: SagaDefinition<{ n: number }> = {
  name: 'demo',
  steps: [
    { name: 'one', participant: 'alpha', command: 'doOne', compensation: 'undoOne', payload: (input) => ({ n: input.n }), timeoutMs: 1000, retry: { maxAttempts: 2, backoffMs: 100, maxBackoffMs: 100 } },
    { name: 'two', participant: 'beta', command: 'doTwo', payload: () => ({}), timeoutMs: 1000, retry: { maxAttempts: 1, backoffMs: 100, maxBackoffMs: 100 } },
  ],
};

const logger = createLogger({ service: 'test', level: 'silent' });
const flush = () => new Promise((resolve) => setImmediate(resolve));

async function commandsOn(bus: EventBus, participant: string): Promise<EventMessage[]> {
  const seen: EventMessage[] = [];
  await bus.subscribe({ groupId: `watch-${participant}`, topics: [`saga.commands.${participant}`], fromBeginning: true, handler: async (m) => void seen.push(m) });
  return seen;
}

describe('SagaOrchestrator', () => {
  let clock: ManualClock;
  let state: StateStore;
  let bus: FlakyBus;
  // The orchestrators' own sweepers run once at start and then rarely: these tests sweep by hand.
  const make = () => new SagaOrchestrator({ state, events: bus, logger, definitions: [definition], clock, relayGraceMs: 2000, claimLeaseMs: 5000, sweepIntervalMs: 600_000 });
  const started = async (orchestrator: SagaOrchestrator) => {
    await orchestrator.start();
    clock.advance(0);
    await flush();
    return orchestrator;
  };
  const record = async (id: string) => JSON.parse((await state.getVersioned(sagaKey(id)))!.value) as SagaRecord;
  const dueAt = async (id: string, at: number) => (await state.claimDue(dueIndexKey(dueShardOf(id, DEFAULT_DUE_SHARDS)), at, { limit: 100, leaseMs: 0 })).includes(sagaKey(id));

  beforeEach(() => {
    clock = new ManualClock();
    state = new InMemoryStateStore({ now: () => clock.current });
    bus = new FlakyBus();
  });

  it('sends the first command with the saga id as key and the trace context, then marks the outbox sent', async () => {
    const orchestrator = await started(make());
    const alpha = await commandsOn(bus, 'alpha');
    const saga = await orchestrator.startSaga('demo', { n: 7 }, { id: 's1', correlationId: 'c-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(saga).toMatchObject({ id: 's1', state: 'RUNNING', revision: 1 });
    await flush();
    expect(alpha).toHaveLength(1);
    expect(alpha[0].key).toBe('s1');
    expect(JSON.parse(alpha[0].value)).toMatchObject({ sagaId: 's1', step: 'one', action: 'command', name: 'doOne', attempt: 1, payload: { n: 7 } });
    expect(alpha[0].headers).toEqual({ 'x-correlation-id': 'c-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect((await record('s1')).outbox).toEqual([]);
    // Due again only at the step's deadline.
    expect(await dueAt('s1', clock.current + 999)).toBe(false);
    expect(await dueAt('s1', clock.current + 1000)).toBe(true);
    await orchestrator.stop();
  });

  it('answers while the bus is down and sends the command once a sweep finds the bus back', async () => {
    const orchestrator = await started(make());
    const alpha = await commandsOn(bus, 'alpha');
    bus.down = true;
    const saga = await orchestrator.startSaga('demo', { n: 1 }, { id: 's2' });
    expect(saga.state).toBe('RUNNING');
    await flush();
    expect((await record('s2')).outbox).toEqual([{ stepIndex: 0, action: 'command', attempt: 1 }]);
    // Not resent before the relay's grace ends.
    expect(await orchestrator.sweep()).toBe(0);
    bus.down = false;
    clock.advance(1999);
    expect(await orchestrator.sweep()).toBe(0);
    clock.advance(1);
    expect(await orchestrator.sweep()).toBe(1);
    await flush();
    expect(alpha.map((m) => JSON.parse(m.value).attempt)).toEqual([1]);
    expect((await record('s2')).outbox).toEqual([]);
    // The deadline counts from the send.
    expect((await record('s2')).steps[0].deadline).toBe(clock.current + 1000);
    await orchestrator.stop();
  });

  it('times a silent step out from the due index, retries it after its backoff, then compensates', async () => {
    const orchestrator = await started(make());
    const alpha = await commandsOn(bus, 'alpha');
    await orchestrator.startSaga('demo', { n: 1 }, { id: 's3' });
    await flush();
    clock.advance(999);
    expect(await orchestrator.sweep()).toBe(0);
    clock.advance(1);
    expect(await orchestrator.sweep()).toBe(1);
    expect((await record('s3')).steps[0]).toMatchObject({ state: 'RUNNING', attempts: 2, dispatched: false });
    clock.advance(100);
    await orchestrator.sweep();
    await flush();
    expect(alpha.map((m) => [JSON.parse(m.value).action, JSON.parse(m.value).attempt])).toEqual([
      ['command', 1],
      ['command', 2],
    ]);
    clock.advance(1000);
    await orchestrator.sweep();
    await flush();
    expect((await record('s3')).state).toBe('COMPENSATING');
    expect(JSON.parse(alpha[2].value)).toMatchObject({ action: 'compensation', name: 'undoOne' });
    await orchestrator.stop();
  });

  it('takes a terminal saga out of the due index', async () => {
    const orchestrator = await started(make());
    await orchestrator.startSaga('demo', { n: 1 }, { id: 's4' });
    await flush();
    const reply = (stepIndex: number) => bus.publish('saga.replies', { key: 's4', value: JSON.stringify({ sagaId: 's4', stepIndex, action: 'command', outcome: 'success' }) });
    await reply(0);
    await flush();
    await reply(1);
    for (let i = 0; i < 5 && (await record('s4')).state !== 'COMPLETED'; i++) await flush();
    expect((await record('s4')).state).toBe('COMPLETED');
    expect(await dueAt('s4', Number.MAX_SAFE_INTEGER)).toBe(false);
    await orchestrator.stop();
  });

  it('keeps sweeping after the state store fails, with backoff, and moves the saga on when it answers', async () => {
    let storeDown = false;
    const failing = new Proxy(state, {
      get: (target, name, receiver) => {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => (storeDown ? Promise.reject(new BackendUnavailableError('redis', 'down')) : (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    const orchestrator = new SagaOrchestrator({ state: failing, events: bus, logger, definitions: [definition], clock, sweepIntervalMs: 250 });
    await orchestrator.start();
    await orchestrator.startSaga('demo', { n: 1 }, { id: 's5' });
    await flush();
    storeDown = true;
    clock.advance(1000); // the deadline passes during the outage
    for (let i = 0; i < 5; i++) {
      clock.advance(300);
      await flush();
    }
    expect(clock.pending()).toBe(1); // the sweeper is still scheduled, not dead
    storeDown = false;
    for (let i = 0; i < 20 && (await record('s5')).steps[0].attempts < 2; i++) {
      clock.advance(1000);
      await flush();
      await flush();
    }
    expect((await record('s5')).steps[0].attempts).toBe(2);
    await orchestrator.stop();
  });

  it('lets only one of two orchestrators send a due retry', async () => {
    const [left, right] = [await started(make()), await started(make())];
    const alpha = await commandsOn(bus, 'alpha');
    await left.startSaga('demo', { n: 1 }, { id: 's6' });
    await flush();
    clock.advance(1000);
    expect((await Promise.all([left.sweep(), right.sweep()])).sort()).toEqual([0, 1]);
    clock.advance(100);
    expect((await Promise.all([left.sweep(), right.sweep()])).sort()).toEqual([0, 1]);
    await flush();
    expect(alpha.map((m) => JSON.parse(m.value).attempt)).toEqual([1, 2]);
    await Promise.all([left.stop(), right.stop()]);
  });
});
