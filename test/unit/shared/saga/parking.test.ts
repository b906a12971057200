/**
 * Two versions of one saga definition on one store: a saga is driven by the version it started
 * with; an orchestrator without that version parks it (out of the due index, logged once,
 * counted, listed) and keeps its reply; one with the version takes it back and finishes it.
 * Records of a removed definition and unreadable records are parked the same way.
 * Embedded backends, time by hand.
 */
import { InMemoryEventBus, type EventMessage } from '@trellis/kit/internal/events';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import type { Logger } from '@trellis/kit/internal/logging';
import {
  DEFAULT_DUE_SHARDS,
  dueIndexKey,
  dueShardOf,
  listParkedSagas,
  SagaOrchestrator,
  sagasInFlightByVersion,
  sagaKey,
  versionOf,
  type SagaDefinition,
  type SagaRecord,
} from '@trellis/kit/internal/saga';
import { SagaParking } from '@trellis/kit/internal/saga/parking';
import { ManualClock } from '@trellis/kit/testing';
import { Registry } from 'prom-client';

type Input = { n: number };
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};
const retry = { maxAttempts: 3, backoffMs: 10, maxBackoffMs: 10 };
const v1: SagaDefinition<Input> = {
  name: 'order',
  steps: [
    { name: 'reserve', participant: 'catalog', command: 'reserveStock', compensation: 'releaseStock', payload: (input) => ({ n: input.n }), timeoutMs: 1000, retry },
    { name: 'charge', participant: 'payments', command: 'charge', compensation: 'refund', payload: (input) => ({ amount: input.n }), timeoutMs: 1000, retry },
  ],
};
const v2: SagaDefinition<Input> = {
  name: 'order',
  version: '2',
  steps: [...v1.steps, { name: 'ship', participant: 'orders', command: 'ship', payload: (input, results) => ({ n: input.n, charged: results.charge }), timeoutMs: 1000, retry }],
};
const refundOnly: SagaDefinition<Input> = { name: 'refund', steps: [{ name: 'refund', participant: 'payments', command: 'refund', payload: () => ({}), timeoutMs: 1000, retry }] };

interface Line {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

describe('parked sagas', () => {
  let clock: ManualClock;
  let state: InMemoryStateStore;
  let bus: InMemoryEventBus;
  let lines: Line[];
  const commands: Record<string, EventMessage[]> = {};
  const running: SagaOrchestrator[] = [];

  const logger = (): Logger => {
    const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message });
    return { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as unknown as Logger;
  };
  const start = async (definitions: Array<SagaDefinition<Input>>, registry?: Registry) => {
    const orchestrator = new SagaOrchestrator({ state, events: bus, logger: logger(), definitions, clock, registry, sweepIntervalMs: 600_000, claimLeaseMs: 5000, parkedScanIntervalMs: 1000 });
    await orchestrator.start();
    running.push(orchestrator);
    clock.advance(0);
    await flush();
    return orchestrator;
  };
  const stop = async (orchestrator: SagaOrchestrator) => {
    running.splice(running.indexOf(orchestrator), 1);
    await orchestrator.stop();
  };
  const record = async (id: string) => JSON.parse((await state.getVersioned(sagaKey(id)))!.value) as SagaRecord<Input>;
  const reply = async (sagaId: string, stepIndex: number, result: unknown = null) => {
    await bus.publish('saga.replies', { key: sagaId, value: JSON.stringify({ sagaId, stepIndex, action: 'command', outcome: 'success', result }) });
    await flush();
  };
  const isDue = async (id: string) => (await state.claimDue(dueIndexKey(dueShardOf(id, DEFAULT_DUE_SHARDS)), Number.MAX_SAFE_INTEGER, { limit: 100, leaseMs: 0 })).includes(sagaKey(id));
  const parkedLogs = () => lines.filter((line) => line.level === 'warn' && line.message.startsWith('saga parked'));
  const metric = async (registry: Registry, name: string) => (await registry.getSingleMetric(name)!.get()).values.map(({ labels, value }) => ({ labels, value }));

  beforeEach(async () => {
    clock = new ManualClock();
    state = new InMemoryStateStore({ now: () => clock.current });
    bus = new InMemoryEventBus();
    lines = [];
    for (const participant of ['catalog', 'payments', 'orders']) {
      commands[participant] = [];
      await bus.subscribe({ groupId: `watch-${participant}`, topics: [`saga.commands.${participant}`], fromBeginning: true, handler: async (m) => void commands[participant].push(m) });
    }
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((orchestrator) => orchestrator.stop()));
  });

  it('starts new sagas on the newest version and keeps its digest and label on the record', async () => {
    const both = await start([v1, v2]);
    const started = await both.startSaga('order', { n: 1 }, { id: 's1' });
    expect(started).toMatchObject({ version: versionOf(v2), versionLabel: '2' });
    expect((await record('s1')).steps.map((step) => step.name)).toEqual(['reserve', 'charge', 'ship']);
    const old = await start([v1]);
    expect(await old.startSaga('order', { n: 2 }, { id: 's2' })).toMatchObject({ version: versionOf(v1) });
    expect((await record('s2')).versionLabel).toBeUndefined();
  });

  it('a saga of v1 finishes on v1 on an orchestrator whose newest is v2', async () => {
    const old = await start([v1]);
    await old.startSaga('order', { n: 1 }, { id: 's1' });
    await stop(old);
    await start([v1, v2]);
    await reply('s1', 0);
    await reply('s1', 1);
    const done = await record('s1');
    expect(done.state).toBe('COMPLETED');
    expect(done.steps.map((step) => [step.name, step.state])).toEqual([
      ['reserve', 'SUCCEEDED'],
      ['charge', 'SUCCEEDED'],
    ]);
    expect(commands.orders).toHaveLength(0);
    expect(parkedLogs()).toEqual([]);
  });

  it('a v1-only orchestrator parks a v2 saga once, keeps its reply, and one with v2 takes it back and finishes it on v2', async () => {
    const newer = await start([v1, v2]);
    await newer.startSaga('order', { n: 7 }, { id: 's1' });
    await stop(newer);
    expect(commands.catalog).toHaveLength(1);

    const oldRegistry = new Registry();
    const old = await start([v1], oldRegistry);
    clock.advance(1000); // the reserve command's deadline: the saga is due
    expect(await old.sweep()).toBe(1);
    await flush();
    const parkedAt = clock.current;
    expect(await listParkedSagas(state)).toEqual([{ sagaId: 's1', reason: 'unknown-version', definition: 'order', version: versionOf(v2), versionLabel: '2', parkedAt, heldReplies: 0 }]);
    expect(parkedLogs()).toEqual([
      {
        level: 'warn',
        fields: { sagaId: 's1', saga: 'order', version: versionOf(v2), reason: 'unknown-version' },
        message: "saga parked: this orchestrator was not given its definition version; one that has it takes it back",
      },
    ]);
    expect(await isDue('s1')).toBe(false);
    // Not claimed again, lease after lease, and nothing retried by the orchestrator that lacks the version.
    clock.advance(60_000);
    expect(await old.sweep()).toBe(0);
    expect(commands.catalog).toHaveLength(1);
    expect(await metric(oldRegistry, 'trellis_sagas_parked_total')).toEqual([{ labels: { saga: 'order', reason: 'unknown-version' }, value: 1 }]);
    expect(await old.unpark()).toBe(0);
    expect(await metric(oldRegistry, 'trellis_sagas_parked')).toEqual([{ labels: { saga: 'order', reason: 'unknown-version' }, value: 1 }]);

    // The reply comes to the old orchestrator: kept on the record, the saga still parked and still logged once.
    await reply('s1', 0, { reservation: 'r1' });
    const held = await record('s1');
    expect(held.heldReplies).toEqual([{ sagaId: 's1', stepIndex: 0, action: 'command', outcome: 'success', result: { reservation: 'r1' } }]);
    expect(held.steps[0].state).toBe('RUNNING');
    expect((await listParkedSagas(state))[0]).toMatchObject({ sagaId: 's1', heldReplies: 1, parkedAt });
    expect(lines.filter((line) => line.message.startsWith('reply kept on a parked saga'))).toHaveLength(1);
    expect(parkedLogs()).toHaveLength(1);
    expect(await isDue('s1')).toBe(false);
    await stop(old);

    // An orchestrator with v2 takes it back at its first sweep and applies the kept reply.
    const registry = new Registry();
    const back = await start([v1, v2], registry);
    expect(await listParkedSagas(state)).toEqual([]);
    expect(await metric(registry, 'trellis_sagas_parked')).toEqual([]);
    const resumed = await record('s1');
    expect(resumed.heldReplies).toBeUndefined();
    expect(resumed.steps.map((step) => step.state)).toEqual(['SUCCEEDED', 'RUNNING', 'PENDING']);
    expect(resumed.results).toEqual({ reserve: { reservation: 'r1' } });
    expect(commands.payments).toHaveLength(1);
    await reply('s1', 1, { captured: 7 });
    expect(commands.orders.map((m) => JSON.parse(m.value).payload)).toEqual([{ n: 7, charged: { captured: 7 } }]);
    await reply('s1', 2);
    const done = await record('s1');
    expect(done).toMatchObject({ state: 'COMPLETED', version: versionOf(v2) });
    expect(done.steps.map((step) => step.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(await back.unpark()).toBe(0);
  });

  it('a reply that reaches the old orchestrator first parks the saga with it', async () => {
    const newer = await start([v1, v2]);
    await newer.startSaga('order', { n: 1 }, { id: 's1' });
    await stop(newer);
    await start([v1]);
    await reply('s1', 0);
    expect(await listParkedSagas(state)).toEqual([expect.objectContaining({ sagaId: 's1', reason: 'unknown-version', heldReplies: 1 })]);
    expect(parkedLogs()).toHaveLength(1);
    expect((await record('s1')).heldReplies).toHaveLength(1);
  });

  it('a reply for a held saga applies the kept replies first, each once', async () => {
    const newer = await start([v1, v2]);
    await newer.startSaga('order', { n: 1 }, { id: 's1' });
    await stop(newer);
    const old = await start([v1]);
    await reply('s1', 0, 'first');
    await reply('s1', 0, 'again'); // a redelivery, kept too
    expect((await record('s1')).heldReplies).toHaveLength(2);
    await stop(old);
    // The new orchestrator's first sweep and the reply race: either way the kept replies go first.
    const back = new SagaOrchestrator({ state, events: bus, logger: logger(), definitions: [v1, v2], clock, sweepIntervalMs: 600_000, parkedScanIntervalMs: 600_000 });
    running.push(back);
    await back.start();
    await reply('s1', 1, 'charged');
    const moved = await record('s1');
    expect(moved.results).toEqual({ reserve: 'first', charge: 'charged' });
    expect(moved.steps.map((step) => step.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'RUNNING']);
    expect(moved.heldReplies).toBeUndefined();
  });

  it('parks a saga of a definition removed by a deploy, once', async () => {
    const old = await start([v1]);
    await old.startSaga('order', { n: 1 }, { id: 's1' });
    await stop(old);
    const other = await start([refundOnly]);
    clock.advance(1000);
    expect(await other.sweep()).toBe(1);
    await flush();
    expect(await listParkedSagas(state)).toEqual([expect.objectContaining({ sagaId: 's1', reason: 'unknown-definition', definition: 'order', version: versionOf(v1) })]);
    expect(parkedLogs().map((line) => line.message)).toEqual(['saga parked: no definition of that name is registered here (removed by a deploy?); an orchestrator that has it takes it back']);
    clock.advance(60_000);
    expect(await other.sweep()).toBe(0);
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
  });

  it('parks an unreadable record once instead of failing on it every lease, and drops its reply with a warning', async () => {
    const registry = new Registry();
    const orchestrator = await start([v1], registry);
    const shard = dueShardOf('bad', DEFAULT_DUE_SHARDS);
    await state.compareAndSetMany([{ key: sagaKey('bad'), expectedVersion: 0, value: '{"not":"a saga"}', due: { index: dueIndexKey(shard), at: clock.current } }]);
    expect(await orchestrator.sweep()).toBe(1);
    await flush();
    expect(await listParkedSagas(state)).toEqual([{ sagaId: 'bad', reason: 'unreadable', parkedAt: clock.current, heldReplies: 0 }]);
    expect(parkedLogs().map((line) => line.fields)).toEqual([{ sagaId: 'bad', reason: 'unreadable' }]);
    expect(await metric(registry, 'trellis_sagas_parked_total')).toEqual([{ labels: { saga: 'unreadable', reason: 'unreadable' }, value: 1 }]);
    clock.advance(60_000);
    expect(await orchestrator.sweep()).toBe(0);
    await reply('bad', 0);
    expect(lines.filter((line) => line.message === 'reply for a saga whose record cannot be read dropped')).toHaveLength(1);
    expect(parkedLogs()).toHaveLength(1);
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    // Still parked through a scan; a repaired record is taken back and driven.
    expect(await orchestrator.unpark()).toBe(0);
    const other = await start([v1]);
    await other.startSaga('order', { n: 3 }, { id: 'good' });
    const stored = await state.getVersioned(sagaKey('bad'));
    await state.compareAndSetMany([{ key: sagaKey('bad'), expectedVersion: stored!.version, value: JSON.stringify({ ...(await record('good')), id: 'bad' }) }]);
    expect(await orchestrator.unpark()).toBe(1);
    expect(await listParkedSagas(state)).toEqual([]);
  });

  it('drives a record written before versions with the current definition', async () => {
    const orchestrator = await start([v1]);
    await orchestrator.startSaga('order', { n: 1 }, { id: 's1' });
    const stored = await state.getVersioned(sagaKey('s1'));
    const { version: _version, ...unversioned } = JSON.parse(stored!.value) as SagaRecord;
    await state.compareAndSetMany([{ key: sagaKey('s1'), expectedVersion: stored!.version, value: JSON.stringify(unversioned) }]);
    await reply('s1', 0);
    expect((await record('s1')).steps.map((step) => step.state)).toEqual(['SUCCEEDED', 'RUNNING']);
    expect(commands.payments).toHaveLength(1);
    expect(parkedLogs()).toEqual([]);
  });

  it('forgets a parked saga whose record ended or is gone, and parks nothing that moved meanwhile', async () => {
    const newer = await start([v1, v2]);
    await newer.startSaga('order', { n: 1 }, { id: 's1' });
    await newer.startSaga('order', { n: 2 }, { id: 's2' });
    await stop(newer);
    const old = await start([v1]);
    await reply('s1', 0);
    await reply('s2', 0);
    expect(await listParkedSagas(state)).toHaveLength(2);
    await state.delete(sagaKey('s1'));
    const s2 = await state.getVersioned(sagaKey('s2'));
    await state.compareAndSetMany([{ key: sagaKey('s2'), expectedVersion: s2!.version, value: JSON.stringify({ ...(await record('s2')), state: 'COMPENSATED' }) }]);
    expect(await old.unpark()).toBe(0);
    expect(await listParkedSagas(state)).toEqual([]);

    const parking = new SagaParking({ state, logger: logger(), shards: DEFAULT_DUE_SHARDS, now: clock.now });
    const stale = { value: s2!.value, version: s2!.version };
    expect(await parking.park('s2', stale, 'unknown-version')).toBe(false);
    expect(await listParkedSagas(state, DEFAULT_DUE_SHARDS)).toEqual([]);
  });
  it('looks for parked sagas at its first sweep and then every 5 s by default', async () => {
    const newer = await start([v1, v2]);
    await newer.startSaga('order', { n: 1 }, { id: 's1' });
    await stop(newer);
    const back = new SagaOrchestrator({ state, events: bus, logger: logger(), definitions: [v1, v2], clock });
    running.push(back);
    await back.start();
    clock.advance(0);
    await flush();
    const old = await start([v1]);
    await reply('s1', 0);
    expect(await listParkedSagas(state)).toHaveLength(1);
    const parkedAt = clock.current;
    // The sweeper runs every 250 ms; the look for parked sagas only once 5 s have passed since the last.
    while (clock.current < parkedAt + 4750) {
      clock.advance(250);
      await flush();
    }
    expect(await listParkedSagas(state)).toHaveLength(1);
    clock.advance(250);
    await flush();
    expect(await listParkedSagas(state)).toEqual([]);
    expect((await record('s1')).steps.map((step) => step.state)).toEqual(['SUCCEEDED', 'RUNNING', 'PENDING']);
    await stop(old);
  });

  it('counts unfinished sagas by definition and version, so an operator sees when an old version has none left', async () => {
    const both = await start([v1, v2]);
    const old = await start([v1]);
    await old.startSaga('order', { n: 1 }, { id: 'a' });
    await both.startSaga('order', { n: 2 }, { id: 'b' });
    await both.startSaga('order', { n: 3 }, { id: 'c' });
    await old.startSaga('order', { n: 4 }, { id: 'done' });
    await reply('done', 0);
    await reply('done', 1);
    expect((await record('done')).state).toBe('COMPLETED');
    const stored = await state.getVersioned(sagaKey('a'));
    const due = (id: string) => ({ index: dueIndexKey(dueShardOf(id, DEFAULT_DUE_SHARDS)), at: clock.current + 60_000 });
    await state.compareAndSetMany([{ key: sagaKey('legacy'), expectedVersion: 0, value: JSON.stringify({ ...JSON.parse(stored!.value), id: 'legacy', version: undefined }), due: due('legacy') }]);
    await state.compareAndSetMany([{ key: sagaKey('junk'), expectedVersion: 0, value: 'not json', due: due('junk') }]);
    // A parked saga is out of the due index and still counts.
    const parking = new SagaParking({ state, logger: logger(), shards: DEFAULT_DUE_SHARDS, now: clock.now });
    expect(await parking.park('c', (await state.getVersioned(sagaKey('c')))!, 'unknown-version')).toBe(true);
    expect(await isDue('c')).toBe(false);
    expect(await sagasInFlightByVersion(state)).toEqual([
      { definition: 'order', version: versionOf(v2), versionLabel: '2', inFlight: 2 },
      { definition: 'order', version: versionOf(v1), inFlight: 1 },
      { definition: 'order', inFlight: 1 },
    ]);
  });
  it('parks two sagas of one shard at once: the parked set is written by both, the loser trying again', async () => {
    const shardOf = (id: string) => dueShardOf(id, DEFAULT_DUE_SHARDS);
    const first = 'p0';
    const second = Array.from({ length: 500 }, (_, i) => `p${i + 1}`).find((id) => shardOf(id) === shardOf(first))!;
    const newer = await start([v1, v2]);
    await newer.startSaga('order', { n: 1 }, { id: first });
    await newer.startSaga('order', { n: 2 }, { id: second });
    await stop(newer);
    const parking = new SagaParking({ state, logger: logger(), shards: DEFAULT_DUE_SHARDS, now: clock.now });
    const writes = jest.spyOn(state, 'compareAndSetMany');
    const [a, b] = await Promise.all([first, second].map(async (id) => parking.park(id, (await state.getVersioned(sagaKey(id)))!, 'unknown-version')));
    expect([a, b]).toEqual([true, true]);
    // Three writes: both read the parked set at once, one wrote it, the other found it changed and wrote again.
    expect(writes).toHaveBeenCalledTimes(3);
    expect((await listParkedSagas(state)).map((saga) => saga.sagaId).sort()).toEqual([first, second].sort());
    expect(parkedLogs()).toHaveLength(2);
  });
});
