/**
 * The orchestrator decides a reply from the record it wrote last, without reading it back, and
 * still gets it right when that record is stale (another orchestrator moved the saga meanwhile).
 */
import { InMemoryEventBus, type OutgoingMessage } from '@trellis/kit/internal/events';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { createLogger } from '@trellis/kit/internal/logging';
import { SagaOrchestrator, sagaChannel, sagaKey, type SagaDefinition, type SagaOrchestratorOptions, type SagaRecord } from '@trellis/kit/internal/saga';
import { ManualClock } from '@trellis/kit/testing';

const definition: SagaDefinition<{ n: number }> = {
  name: 'demo',
  steps: [
    { name: 'one', participant: 'alpha', command: 'doOne', compensation: 'undoOne', payload: () => ({}), timeoutMs: 1000, retry: { maxAttempts: 1, backoffMs: 100, maxBackoffMs: 100 } },
    { name: 'two', participant: 'beta', command: 'doTwo', payload: () => ({}), timeoutMs: 1000, retry: { maxAttempts: 1, backoffMs: 100, maxBackoffMs: 100 } },
  ],
};

const logger = createLogger({ service: 'test', level: 'silent' });
const flush = async (times = 5) => {
  for (let i = 0; i < times; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A state store that counts the record reads. */
class CountingStore extends InMemoryStateStore {
  recordReads = 0;
  override async getVersioned(key: string) {
    if (key.startsWith('saga:record:')) this.recordReads++;
    return super.getVersioned(key);
  }
}

describe('SagaOrchestrator record cache', () => {
  let clock: ManualClock;
  let state: CountingStore;
  let bus: InMemoryEventBus;
  const make = (extra: Partial<SagaOrchestratorOptions> = {}) =>
    new SagaOrchestrator({ state, events: bus, logger, definitions: [definition], clock, sweepIntervalMs: 600_000, ...extra });
  const record = async (id: string) => JSON.parse((await state.getVersioned(sagaKey(id)))!.value) as SagaRecord;
  const reply = (id: string, stepIndex: number, outcome = 'success') =>
    bus.publish('saga.replies', { key: id, value: JSON.stringify({ sagaId: id, stepIndex, action: 'command', outcome, ...(outcome === 'failure' ? { error: 'no' } : {}) }) });

  beforeEach(() => {
    clock = new ManualClock();
    state = new CountingStore({ now: () => clock.current });
    bus = new InMemoryEventBus();
  });

  it('applies each reply to the saga it started without reading the record back', async () => {
    const orchestrator = make();
    await orchestrator.start();
    await orchestrator.startSaga('demo', { n: 1 }, { id: 's1' });
    await flush();
    state.recordReads = 0;
    await reply('s1', 0);
    await flush();
    expect((await record('s1')).steps.map((step) => step.state)).toEqual(['SUCCEEDED', 'RUNNING']);
    await reply('s1', 1);
    await flush();
    const done = await record('s1');
    expect(done.state).toBe('COMPLETED');
    // The two reads are this test's own (record()); the orchestrator read none.
    expect(state.recordReads).toBe(2);
    await orchestrator.stop();
  });

  it('reads the record again when another orchestrator moved the saga since its own write', async () => {
    const first = make();
    const second = make();
    await first.start();
    await first.startSaga('demo', { n: 1 }, { id: 's2' });
    await flush();
    // Only `second` takes the first reply: `first` still remembers the saga at step one.
    await first.stop();
    await second.start();
    await reply('s2', 0);
    await flush();
    expect((await record('s2')).cursor).toBe(1);
    await second.stop();
    await first.start();
    state.recordReads = 0;
    // `first` gets the second step's refusal: its remembered record (still at step one) cannot take
    // a reply for step two, so it reads the stored one and decides again: step two failed, step
    // one is compensated.
    await reply('s2', 1, 'failure');
    await flush(10);
    const moved = await record('s2');
    expect(moved.state).toBe('COMPENSATING');
    expect(moved.steps.map((step) => step.state)).toEqual(['COMPENSATING', 'FAILED']);
    expect(state.recordReads).toBeGreaterThan(1);
    await first.stop();
  });
  it('forgets the oldest saga past rememberedSagas: a reply to it reads the record, one to the newest does not', async () => {
    const orchestrator = make({ rememberedSagas: 1 });
    await orchestrator.start();
    await orchestrator.startSaga('demo', { n: 1 }, { id: 'old' });
    await orchestrator.startSaga('demo', { n: 2 }, { id: 'new' });
    await flush();
    state.recordReads = 0;
    await reply('new', 0);
    await flush();
    expect(state.recordReads).toBe(0);
    await reply('old', 0);
    await flush();
    expect(state.recordReads).toBe(1);
    expect((await record('new')).cursor).toBe(1);
    expect((await record('old')).cursor).toBe(1);
    await orchestrator.stop();
  });

  it('reads a saga it does not remember once, even when the reply changes nothing', async () => {
    const orchestrator = make({ rememberedSagas: 1 });
    await orchestrator.start();
    await orchestrator.startSaga('demo', { n: 1 }, { id: 'a' });
    await orchestrator.startSaga('demo', { n: 2 }, { id: 'b' });
    await flush();
    const before = await record('a');
    state.recordReads = 0;
    // A reply for a step `a` has not reached: nothing to do, decided on the one record read.
    await reply('a', 1);
    await flush(10);
    expect(state.recordReads).toBe(1);
    expect(await record('a')).toEqual(before);
    await orchestrator.stop();
  });

  it('counts the deadline from the send and leaves every other step as it was written', async () => {
    /** A bus whose publish takes 50 ms of the hand-driven clock. */
    class SlowBus extends InMemoryEventBus {
      override async publish(topic: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void> {
        if (topic.startsWith('saga.commands.')) clock.advance(50);
        return super.publish(topic, messages);
      }
    }
    bus = new SlowBus();
    const announced: SagaRecord[] = [];
    await state.subscribe(sagaChannel('d1'), (message) => announced.push(JSON.parse(message) as SagaRecord));
    const orchestrator = make();
    await orchestrator.start();
    await orchestrator.startSaga('demo', { n: 1 }, { id: 'd1' });
    await flush();
    await reply('d1', 0);
    await flush();
    const written = announced.at(-1)!;
    const sent = await record('d1');
    expect(written.cursor).toBe(1);
    // The write (announced) counted the deadline from its own time; once sent it counts from the send, 50 ms later.
    expect(sent.steps[1].deadline).toBe((written.steps[1].deadline as number) + 50);
    expect(sent.steps[0]).toEqual(written.steps[0]);
    expect({ ...sent, steps: undefined, outbox: undefined }).toEqual({ ...written, steps: undefined, outbox: undefined });
    expect(sent.outbox).toEqual([]);
    await orchestrator.stop();
  });
  it('reads once more, and only once, when a reply fits neither its remembered record nor the stored one', async () => {
    const first = make();
    const second = make();
    await first.start();
    await first.startSaga('demo', { n: 1 }, { id: 's3' });
    await flush();
    await first.stop();
    await second.start();
    await reply('s3', 0);
    await flush();
    await second.stop();
    await first.start();
    const stored = await record('s3');
    state.recordReads = 0;
    // A reply for a step the saga is not at, on either record: read again once, then nothing to do.
    await reply('s3', 5);
    await flush(10);
    expect(state.recordReads).toBe(1);
    expect(await record('s3')).toEqual(stored);
    await first.stop();
  });
});
