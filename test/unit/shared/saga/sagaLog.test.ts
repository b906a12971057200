/**
 * The saga overview operators see, listed from the indexes the orchestrator keeps (due shards for
 * those in flight, each shard's capped recent index for the finished), never by scanning keys, and
 * reading a bounded number of records however many sagas the store holds.
 */
import { InMemoryEventBus } from '@trellis/kit/internal/events';
import { InMemoryStateStore, type VersionedValue } from '@trellis/kit/internal/state';
import { createLogger } from '@trellis/kit/internal/logging';
import { LEGACY_DUE_INDEX, MAX_OVERVIEW_LIMIT, SagaLog, SagaOrchestrator, sagaKey, type SagaDefinition, type SagaRecord } from '@trellis/kit/internal/saga';
import { ManualClock } from '@trellis/kit/testing';
import { SagaParking } from '@trellis/kit/internal/saga/parking';

const retry = { maxAttempts: 1, backoffMs: 100, maxBackoffMs: 100 };
const definition: SagaDefinition<{ n: number }> = {
  name: 'demo',
  steps: [
    { name: 'one', participant: 'alpha', command: 'doOne', compensation: 'undoOne', payload: () => ({}), timeoutMs: 60_000, retry },
    { name: 'two', participant: 'beta', command: 'doTwo', payload: () => ({}), timeoutMs: 60_000, retry },
  ],
};
const logger = createLogger({ service: 'test', level: 'silent' });
const flush = async (times = 5) => {
  for (let i = 0; i < times; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A store on which a key scan fails the test, and which counts the records read. */
class NoScanStore extends InMemoryStateStore {
  recordsRead = 0;
  override async keys(): Promise<string[]> {
    throw new Error('the saga overview scanned keys');
  }
  override async getVersionedMany(keys: readonly string[]): Promise<Array<VersionedValue | null>> {
    this.recordsRead += keys.length;
    return super.getVersionedMany(keys);
  }
}

describe('SagaLog', () => {
  let clock: ManualClock;
  let state: NoScanStore;
  let bus: InMemoryEventBus;
  let orchestrator: SagaOrchestrator;
  const dueShards = 4;

  const reply = async (id: string, stepIndex: number, outcome: 'success' | 'failure' = 'success') => {
    await bus.publish('saga.replies', { key: id, value: JSON.stringify({ sagaId: id, stepIndex, action: 'command', outcome, ...(outcome === 'failure' ? { error: 'declined' } : {}) }) });
    await flush();
  };
  const complete = async (id: string) => (await reply(id, 0), await reply(id, 1));
  const ids = (list: Array<{ id: string }>) => list.map((saga) => saga.id);

  beforeEach(async () => {
    clock = new ManualClock();
    state = new NoScanStore({ now: () => clock.current });
    bus = new InMemoryEventBus();
    orchestrator = new SagaOrchestrator({ state, events: bus, logger, definitions: [definition], clock, sweepIntervalMs: 600_000, dueShards });
    await orchestrator.start();
  });
  afterEach(() => orchestrator.stop());

  it('lists in flight the next due first, finished the last to end first, each with its steps', async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      await orchestrator.startSaga('demo', { n: 1 }, { id });
      clock.advance(1000);
    }
    await flush();
    await complete('b');
    clock.advance(1000);
    await reply('d', 0, 'failure');
    clock.advance(1000);
    await complete('a');
    // c started before e, so its deadline comes first.
    const overview = await new SagaLog({ state, dueShards }).overview();
    expect(ids(overview.inFlight)).toEqual(['c', 'e']);
    expect(ids(overview.finished)).toEqual(['a', 'd', 'b']);
    expect(overview).toMatchObject({ inFlightTotal: 2, finishedKept: 3 });
    expect(overview.finished[1]).toMatchObject({ id: 'd', definition: 'demo', state: 'COMPENSATED' });
    expect(overview.finished[1].steps).toEqual([
      { name: 'one', state: 'FAILED', attempts: 1, error: 'declined' },
      { name: 'two', state: 'PENDING', attempts: 0 },
    ]);
    expect(overview.inFlight[0].steps[0]).toEqual({ name: 'one', state: 'RUNNING', attempts: 1 });
  });

  it('cuts each list at its limit, reading no more records than it lists, and says how many there are', async () => {
    for (let i = 0; i < 30; i++) {
      await orchestrator.startSaga('demo', { n: i }, { id: `s${String(i).padStart(2, '0')}` });
      clock.advance(10);
    }
    await flush();
    for (let i = 0; i < 10; i++) {
      await complete(`s${String(i).padStart(2, '0')}`);
      clock.advance(10);
    }
    state.recordsRead = 0;
    const overview = await new SagaLog({ state, dueShards }).overview({ inFlight: 3, finished: 2 });
    expect(ids(overview.inFlight)).toEqual(['s10', 's11', 's12']);
    expect(ids(overview.finished)).toEqual(['s09', 's08']);
    expect(overview).toMatchObject({ inFlightTotal: 20, finishedKept: 10 });
    // The five records shown, and each shard's parked set.
    expect(state.recordsRead).toBe(5 + dueShards);
    expect(await new SagaLog({ state, dueShards }).overview({ inFlight: 0, finished: 0 })).toEqual({ inFlight: [], finished: [], inFlightTotal: 20, finishedKept: 10, parked: [], parkedTotal: 0 });
  });

  it('keeps only the latest finished sagas of each shard', async () => {
    const store = new NoScanStore({ now: () => clock.current });
    const events = new InMemoryEventBus();
    const single = new SagaOrchestrator({ state: store, events, logger, definitions: [definition], clock, sweepIntervalMs: 600_000, dueShards: 1 });
    await single.start();
    const total = MAX_OVERVIEW_LIMIT + 5;
    for (let i = 0; i < total; i++) {
      // A saga whose first step fails ends at once: that write files it in the recent index.
      await single.startSaga('demo', { n: i }, { id: `f${i}` });
      clock.advance(1);
      await events.publish('saga.replies', { key: `f${i}`, value: JSON.stringify({ sagaId: `f${i}`, stepIndex: 0, action: 'command', outcome: 'failure', error: 'no' }) });
      await flush();
    }
    const overview = await new SagaLog({ state: store, dueShards: 1 }).overview({ finished: MAX_OVERVIEW_LIMIT });
    expect(overview.finishedKept).toBe(MAX_OVERVIEW_LIMIT);
    expect(overview.finished[0].id).toBe(`f${total - 1}`);
    expect(overview.finished.at(-1)?.id).toBe('f5');
    await single.stop();
  });

  it('lists a saga of the layout before shards from the old index until a sweeper moves it', async () => {
    const legacy: SagaRecord = {
      id: 'old',
      definition: 'demo',
      state: 'RUNNING',
      input: { n: 0 },
      results: {},
      steps: [{ name: 'one', state: 'RUNNING', attempts: 1, dispatched: true, deadline: 1 }, { name: 'two', state: 'PENDING', attempts: 0 }],
      cursor: 0,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
      revision: 1,
      outbox: [],
    };
    await state.compareAndSetMany([{ key: 'saga:record:old', expectedVersion: 0, value: JSON.stringify(legacy), due: { index: LEGACY_DUE_INDEX, at: 1 } }]);
    const log = new SagaLog({ state, dueShards });
    expect(ids((await log.overview()).inFlight)).toEqual(['old']);
    await orchestrator.sweep();
    await flush();
    // The old key expires a millisecond after the move.
    clock.advance(1);
    expect(await state.getVersioned('saga:record:old')).toBeNull();
    const moved = await log.overview();
    expect(ids(moved.inFlight)).toEqual(['old']);
    expect(moved.inFlightTotal).toBe(1);
  });

  it('skips a listed saga whose record is gone, and refuses a limit out of range', async () => {
    await orchestrator.startSaga('demo', { n: 1 }, { id: 'x' });
    await flush();
    await complete('x');
    // Retention ended: the record expired, its entry in the recent index stays until trimmed.
    clock.advance(8 * 24 * 3600_000);
    const log = new SagaLog({ state, dueShards });
    expect(await log.overview()).toEqual({ inFlight: [], finished: [], inFlightTotal: 0, finishedKept: 1, parked: [], parkedTotal: 0 });
    for (const limits of [{ inFlight: MAX_OVERVIEW_LIMIT + 1 }, { finished: -1 }, { inFlight: 1.5 }]) {
      await expect(log.overview(limits)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    }
  });
  it('lists parked sagas apart, oldest first, and no longer in flight (they left the due index)', async () => {
    for (const id of ['p1', 'p2', 'ok']) await orchestrator.startSaga('demo', { n: 1 }, { id });
    const parking = new SagaParking({ state, logger, shards: dueShards, now: () => clock.current });
    for (const id of ['p2', 'p1']) {
      const stored = await state.getVersioned(sagaKey(id, dueShards));
      expect(await parking.park(id, stored!, 'unknown-version')).toBe(true);
      clock.advance(1000);
    }
    const overview = await new SagaLog({ state, dueShards }).overview();
    expect(ids(overview.inFlight)).toEqual(['ok']);
    expect(overview.inFlightTotal).toBe(1);
    expect(overview.parkedTotal).toBe(2);
    expect(overview.parked.map(({ sagaId, reason, definition: name, heldReplies }) => ({ sagaId, reason, name, heldReplies }))).toEqual([
      { sagaId: 'p2', reason: 'unknown-version', name: 'demo', heldReplies: 0 },
      { sagaId: 'p1', reason: 'unknown-version', name: 'demo', heldReplies: 0 },
    ]);
    expect(overview.parked[1].parkedAt - overview.parked[0].parkedAt).toBe(1000);
  });
});
