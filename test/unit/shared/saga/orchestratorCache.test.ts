/**
 * The orchestrator decides a reply from the record it wrote last, without reading it back, and
 * still gets it right when that record is stale (another orchestrator moved the saga meanwhile).
 */
import { InMemoryEventBus } from '../../../../shared/events';
import { InMemoryStateStore } from '../../../../shared/state';
import { createLogger } from '../../../../shared/logging';
import { SagaOrchestrator, sagaKey, type SagaDefinition, type SagaRecord } from '../../../../shared/saga';
import { ManualClock } from '../../../support/manualClock';

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
  const make = () => new SagaOrchestrator({ state, events: bus, logger, definitions: [definition], clock, sweepIntervalMs: 600_000 });
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
});
