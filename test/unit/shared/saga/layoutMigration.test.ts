/**
 * An upgrade to the sharded key layout loses no saga in flight: records filed under the old global
 * `saga:due` index are still claimed and moved to their shard (and out of the old index) in one
 * write, a reply for a saga not moved yet moves it, and a participant still honours the dedupe
 * records it wrote before, so a command redelivered across the upgrade takes effect once.
 */
import { InMemoryEventBus, type EventMessage } from '@trellis/kit/internal/events';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { createLogger } from '@trellis/kit/internal/logging';
import { begin, createRecord, handleSagaCommands, LEGACY_DUE_INDEX, SagaOrchestrator, sagaKey, type SagaDefinition, type SagaHandler, type SagaRecord, type SagaReply } from '@trellis/kit/internal/saga';
import { ManualClock } from '@trellis/kit/testing';
import { eventually } from '../../../support/graphql';

const logger = createLogger({ service: 'test', level: 'silent' });
const flush = () => new Promise((resolve) => setImmediate(resolve));
const definition: SagaDefinition<{ n: number }> = {
  name: 'demo',
  steps: [
    { name: 'one', participant: 'alpha', command: 'doOne', payload: (input) => input, timeoutMs: 1000, retry: { maxAttempts: 2, backoffMs: 100, maxBackoffMs: 100 } },
    { name: 'two', participant: 'alpha', command: 'doTwo', payload: () => ({}), timeoutMs: 1000, retry: { maxAttempts: 1, backoffMs: 100, maxBackoffMs: 100 } },
  ],
};

describe('the sharded saga layout, after an upgrade', () => {
  let clock: ManualClock;
  let state: InMemoryStateStore;
  let bus: InMemoryEventBus;
  let commands: EventMessage[];
  const make = () => new SagaOrchestrator({ state, events: bus, logger, definitions: [definition], clock, sweepIntervalMs: 600_000 });
  const stored = async (key: string) => {
    const found = await state.getVersioned(key);
    return found ? (JSON.parse(found.value) as SagaRecord) : null;
  };

  /** A saga as the orchestrator before shards left it: `saga:record:<id>`, filed in `saga:due` at its step's deadline, command sent. */
  async function legacySaga(id: string): Promise<SagaRecord> {
    const record = { ...begin(definition, createRecord(definition, id, { n: 1 }, clock.current), clock.current).record, outbox: [] };
    const deadline = record.steps[0].deadline as number;
    expect(await state.compareAndSetMany([{ key: `saga:record:${id}`, expectedVersion: 0, value: JSON.stringify(record), due: { index: LEGACY_DUE_INDEX, at: deadline } }])).toEqual([1]);
    return record;
  }

  beforeEach(async () => {
    clock = new ManualClock();
    state = new InMemoryStateStore({ now: () => clock.current });
    bus = new InMemoryEventBus();
    commands = [];
    await bus.subscribe({ groupId: 'watch', topics: ['saga.commands.alpha'], fromBeginning: true, handler: async (m) => void commands.push(m) });
  });
  afterEach(() => bus.close());

  it('claims a saga from the old index when it is due, moves it to its shard and out of the old index, and moves it on', async () => {
    const orchestrator = make();
    await legacySaga('old-1');
    expect(await orchestrator.sweep()).toBe(0);
    clock.current += 1000;
    expect(await orchestrator.sweep()).toBe(1);
    await flush();
    // Timed out: the step's second attempt waits out its backoff, in the new layout only (the old key expires 1 ms after the move).
    clock.current += 1;
    expect(await state.getVersioned('saga:record:old-1')).toBeNull();
    expect(await stored(sagaKey('old-1'))).toMatchObject({ id: 'old-1', state: 'RUNNING', steps: [{ state: 'RUNNING', attempts: 2, dispatched: false }, { state: 'PENDING' }] });
    expect(await state.claimDue(LEGACY_DUE_INDEX, Number.MAX_SAFE_INTEGER, { limit: 10, leaseMs: 0 })).toEqual([]);
    clock.current += 99;
    expect(await orchestrator.sweep()).toBe(1);
    await flush();
    expect(commands.map((m) => [m.key, JSON.parse(m.value).attempt])).toEqual([['old-1', 2]]);
    expect(await orchestrator.get('old-1')).toMatchObject({ steps: [{ dispatched: true }, {}] });
  });

  it('applies a reply for a saga still in the old layout, moving it first', async () => {
    const orchestrator = make();
    await orchestrator.start();
    await legacySaga('old-2');
    expect(await orchestrator.get('old-2')).toMatchObject({ id: 'old-2', state: 'RUNNING' });
    const reply: SagaReply = { sagaId: 'old-2', stepIndex: 0, action: 'command', outcome: 'success', result: { ok: true } };
    await bus.publish('saga.replies', { key: 'old-2', value: JSON.stringify(reply) });
    await eventually(async () => expect(await stored(sagaKey('old-2'))).toMatchObject({ cursor: 1, results: { one: { ok: true } } }));
    clock.current += 1;
    expect(await state.getVersioned('saga:record:old-2')).toBeNull();
    await eventually(async () => expect(commands.map((m) => JSON.parse(m.value).name)).toEqual(['doTwo']));
    await orchestrator.stop();
  });

  it('replays, to a command delivered again after the upgrade, the outcome recorded before it', async () => {
    const replies: SagaReply[] = [];
    await bus.subscribe({ groupId: 'replies', topics: ['saga.replies'], fromBeginning: true, handler: async (m) => void replies.push(JSON.parse(m.value)) });
    const effects: number[] = [];
    const doOne: SagaHandler = (async (payload: { n: number }) => (effects.push(payload.n), { result: { applied: true } })) as SagaHandler;
    // What the participant before the hash tag recorded when it applied the command.
    await state.compareAndSet('saga:dedupe:old-3:0:command', 0, JSON.stringify({ outcome: 'success', result: { applied: 'before' } }));
    const participant = await handleSagaCommands('alpha', { doOne }, { events: bus, state, logger });
    const command = { sagaId: 'old-3', saga: 'demo', step: 'one', stepIndex: 0, action: 'command', name: 'doOne', attempt: 1, payload: { n: 1 } };
    await bus.publish('saga.commands.alpha', { key: 'old-3', value: JSON.stringify(command) });
    await eventually(async () => expect(replies).toEqual([{ sagaId: 'old-3', stepIndex: 0, action: 'command', outcome: 'success', result: { applied: 'before' } }]));
    expect(effects).toEqual([]);
    await participant.stop();
  });
});
