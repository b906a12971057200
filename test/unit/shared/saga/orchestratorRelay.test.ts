/**
 * What an operator relies on from the orchestrator's relay and sweeper: the defaults (relay grace
 * 2 s, claim lease 10 s, sweep every 250 ms, records kept 7 days), the sweep's backoff and its
 * logs, commands built from earlier results with the saga's headers, every change announced, and
 * the ways a saga's work can fail without stopping the others. Embedded backends, time by hand.
 */
import { InMemoryEventBus, type EventMessage, type OutgoingMessage } from '@trellis/kit/internal/events';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { BackendUnavailableError } from '@trellis/kit/internal/errors';
import type { Logger } from '@trellis/kit/internal/logging';
import { DEFAULT_DUE_SHARDS, dueIndexKey, dueShardOf, SagaOrchestrator, sagaChannel, sagaKey, type SagaDefinition, type SagaOrchestratorOptions, type SagaRecord } from '@trellis/kit/internal/saga';
import { ManualClock } from '@trellis/kit/testing';

const DAY = 24 * 3600_000;
const flush = () => new Promise((resolve) => setImmediate(resolve));
const retry = { maxAttempts: 1, backoffMs: 10, maxBackoffMs: 10 };
const definition: SagaDefinition<{ sku: string }> = {
  name: 'order',
  steps: [
    { name: 'reserve', participant: 'catalog', command: 'reserveStock', compensation: 'releaseStock', payload: (input) => ({ sku: input.sku }), timeoutMs: 1000, retry },
    { name: 'charge', participant: 'payments', command: 'charge', payload: (input, results) => ({ sku: input.sku, reservation: results.reserve }), timeoutMs: 1000, retry },
  ],
};

/** A bus that records what it was asked and can fail or hold publishes. */
class TestBus extends InMemoryEventBus {
  ensured: string[] = [];
  failWith?: Error;
  gate?: Promise<void>;
  override async ensureTopics(topics: string[]): Promise<void> {
    this.ensured.push(...topics);
    return super.ensureTopics(topics);
  }
  override async publish(topic: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void> {
    if (topic.startsWith('saga.commands.')) {
      if (this.gate) await this.gate;
      if (this.failWith) throw this.failWith;
    }
    return super.publish(topic, messages);
  }
}

interface Line {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function capturingLogger(lines: Line[]): Logger {
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message });
  return { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as unknown as Logger;
}

describe('SagaOrchestrator relay and sweeper', () => {
  let clock: ManualClock;
  let state: InMemoryStateStore;
  let bus: TestBus;
  let lines: Line[];
  let commands: EventMessage[];
  const make = (options: Partial<SagaOrchestratorOptions> = {}) => new SagaOrchestrator({ state, events: bus, logger: capturingLogger(lines), definitions: [definition], clock, ...options });
  const record = async (id: string) => JSON.parse((await state.getVersioned(sagaKey(id)))!.value) as SagaRecord;
  const reply = (sagaId: string, stepIndex: number, extra: Record<string, unknown> = {}) =>
    bus.publish('saga.replies', { key: sagaId, value: JSON.stringify({ sagaId, stepIndex, action: 'command', outcome: 'success', ...extra }) });
  const messages = (level: string) => lines.filter((l) => l.level === level).map((l) => l.message);

  beforeEach(async () => {
    clock = new ManualClock();
    state = new InMemoryStateStore({ now: () => clock.current });
    bus = new TestBus();
    lines = [];
    commands = [];
    for (const participant of ['catalog', 'payments']) {
      await bus.subscribe({ groupId: `watch-${participant}`, topics: [`saga.commands.${participant}`], fromBeginning: true, handler: async (m) => void commands.push(m) });
    }
  });
  afterEach(() => jest.restoreAllMocks());

  it('creates the reply topic and a command topic per participant', async () => {
    const orchestrator = make();
    await orchestrator.start();
    expect(bus.ensured.sort()).toEqual(['saga.commands.catalog', 'saga.commands.payments', 'saga.replies']);
    await orchestrator.stop();
  });

  it('resends an unsent outbox after the default 2 s grace, and leaves a claimed saga to its claimer for the default 10 s lease', async () => {
    const orchestrator = make();
    bus.failWith = new BackendUnavailableError('kafka', 'down');
    await orchestrator.startSaga('order', { sku: 'a' }, { id: 's1' });
    await flush();
    expect(messages('warn')).toContain('saga commands not sent yet; a sweeper sends them when the bus answers');
    clock.current += 1999;
    expect(await orchestrator.sweep()).toBe(0);
    clock.current += 1;
    expect(await orchestrator.sweep()).toBe(1); // still down: claimed, not sent
    clock.current += 9999;
    expect(await orchestrator.sweep()).toBe(0);
    bus.failWith = undefined;
    clock.current += 1;
    expect(await orchestrator.sweep()).toBe(1);
    await flush();
    expect(commands).toHaveLength(1);
    expect((await record('s1')).outbox).toEqual([]);
  });

  it('claims at most 200 due sagas per shard per sweep, the rest on the next', async () => {
    const orchestrator = make({ dueShards: 1 });
    bus.failWith = new BackendUnavailableError('kafka', 'down');
    for (let i = 0; i < 201; i++) await orchestrator.startSaga('order', { sku: 'a' }, { id: `s${i}` });
    await flush();
    clock.current += 2000;
    expect(await orchestrator.sweep()).toBe(200);
    expect(await orchestrator.sweep()).toBe(1);
  });

  it('files each saga in the due shard of its id, and every sweep visits every shard', async () => {
    const orchestrator = make({ dueShards: 4 });
    bus.failWith = new BackendUnavailableError('kafka', 'down');
    const ids = Array.from({ length: 40 }, (_, i) => `s${i}`);
    for (const id of ids) await orchestrator.startSaga('order', { sku: 'a' }, { id });
    await flush();
    const shards = new Set(ids.map((id) => dueShardOf(id, 4)));
    expect(shards.size).toBe(4);
    // Each saga is in its shard's index (and in no other): a claim on one shard gives exactly its sagas.
    const due = clock.current + 2000;
    for (const shard of shards) {
      const claimed = await state.claimDue(dueIndexKey(shard), due, { limit: 100, leaseMs: 0 });
      expect(claimed.sort()).toEqual(ids.filter((id) => dueShardOf(id, 4) === shard).map((id) => sagaKey(id, 4)).sort());
    }
    clock.current += 2000;
    expect(await orchestrator.sweep()).toBe(40);
  });

  it('refuses to start with another shard count than the store was first used with, naming SAGA_DUE_SHARDS', async () => {
    const first = make({ dueShards: 4 });
    await first.start();
    await expect(make({ dueShards: 8 }).start()).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'SAGA_DUE_SHARDS=8, but the sagas in this state store are filed in 4 shards: every orchestrator must use SAGA_DUE_SHARDS=4',
    });
    const same = make({ dueShards: 4 });
    await same.start();
    await Promise.all([first.stop(), same.stop()]);
  });

  it('does not send a second time what it is still relaying', async () => {
    const orchestrator = make();
    let open!: () => void;
    bus.gate = new Promise((resolve) => (open = resolve));
    const starting = orchestrator.startSaga('order', { sku: 'a' }, { id: 's1' });
    await starting;
    clock.current += 2000;
    expect(await orchestrator.sweep()).toBe(1);
    bus.gate = undefined;
    open();
    await flush();
    await flush();
    expect(commands).toHaveLength(1);
    // Once it went out, the next sweep waits for the deadline.
    expect(await orchestrator.sweep()).toBe(0);
  });

  it('sends a command that waited out a Kafka outage with its phase deadline, counted from the start, and cuts its attempt short at it', async () => {
    const tight: SagaDefinition<{ sku: string }> = { ...definition, name: 'tight', deadlines: { commandMs: 2500 } };
    const orchestrator = make({ definitions: [tight] });
    const startedAt = clock.current;
    bus.failWith = new BackendUnavailableError('kafka', 'down');
    await orchestrator.startSaga('tight', { sku: 'a' }, { id: 's1' });
    await flush();
    bus.failWith = undefined;
    clock.current += 2000;
    expect(await orchestrator.sweep()).toBe(1);
    await flush();
    expect(JSON.parse(commands[0].value)).toMatchObject({ attempt: 1, deadline: startedAt + 2500 });
    // Sent at +2000, a 1000 ms attempt would end at +3000: the phase ends at +2500.
    expect((await record('s1')).steps[0]).toMatchObject({ expiresAt: startedAt + 2500, deadline: startedAt + 2500 });
  });

  it('logs a publish that fails for good and leaves the outbox for a sweeper', async () => {
    const orchestrator = make();
    bus.failWith = new Error('message too large');
    await orchestrator.startSaga('order', { sku: 'a' }, { id: 's1' });
    await flush();
    expect(lines).toContainEqual({ level: 'error', fields: { err: 'message too large' }, message: 'saga work failed; the sweeper tries again' });
    expect((await record('s1')).outbox).toHaveLength(1);
  });

  it('builds each command from the input and earlier results, with the correlation id alone when there is no trace', async () => {
    const orchestrator = make();
    await orchestrator.start();
    await orchestrator.startSaga('order', { sku: 'a' }, { id: 's1', correlationId: 'c-1' });
    await orchestrator.startSaga('order', { sku: 'b' }, { id: 's2' });
    await flush();
    await reply('s1', 0, { result: { reservation: 'r-1' } });
    for (let i = 0; i < 5 && commands.length < 3; i++) await flush();
    const charge = commands.find((m) => m.topic === 'saga.commands.payments')!;
    // The step's deadline travels with it: when the charge started (the reply's time) plus the kit's default command deadline.
    expect(JSON.parse(charge.value)).toEqual({
      sagaId: 's1',
      saga: 'order',
      step: 'charge',
      stepIndex: 1,
      action: 'command',
      name: 'charge',
      attempt: 1,
      payload: { sku: 'a', reservation: { reservation: 'r-1' } },
      deadline: clock.now() + 60_000,
    });
    expect(charge.headers).toEqual({ 'x-correlation-id': 'c-1' });
    expect(commands.find((m) => m.key === 's2')!.headers).toEqual({});
    await orchestrator.stop();
  });

  it('announces every change without its outbox, and logs each transition', async () => {
    const orchestrator = make();
    await orchestrator.start();
    const seen: Array<Record<string, unknown>> = [];
    await state.subscribe(sagaChannel('s1'), (m) => void seen.push(JSON.parse(m) as Record<string, unknown>));
    await orchestrator.startSaga('order', { sku: 'a' }, { id: 's1' });
    await flush();
    await reply('s1', 0);
    for (let i = 0; i < 5 && seen.length < 2; i++) await flush();
    expect(seen.map((r) => [r.revision, r.state, r.cursor])).toEqual([
      [1, 'RUNNING', 0],
      [2, 'RUNNING', 1],
    ]);
    expect(seen.every((r) => !('outbox' in r))).toBe(true);
    expect(lines.filter((l) => l.message === 'saga transition').map((l) => l.fields)).toEqual([
      { sagaId: 's1', state: 'RUNNING', step: 'reserve' },
      { sagaId: 's1', state: 'RUNNING', step: 'charge' },
    ]);
    await orchestrator.stop();
  });

  it('announces every transition in its own write, and nothing for marking the outbox sent', async () => {
    const heard: Array<{ state: string; revision: number; outbox?: unknown }> = [];
    await state.subscribe(sagaChannel('s1'), (message) => heard.push(JSON.parse(message)));
    const orchestrator = make();
    await orchestrator.start();
    await orchestrator.startSaga('order', { sku: 'a' }, { id: 's1' });
    await flush();
    await reply('s1', 1, { stepIndex: 0, outcome: 'failure', error: 'no stock' });
    for (let i = 0; i < 5 && (await orchestrator.get('s1'))?.state !== 'COMPENSATED'; i++) await flush();
    const revisions = heard.map((change) => change.revision);
    // One announcement per revision, in order, the last one terminal; the outbox never shown.
    expect(revisions).toEqual(revisions.map((_, i) => i + 1));
    expect(heard[0].state).toBe('RUNNING');
    expect(heard.at(-1)?.state).toBe('COMPENSATED');
    expect(heard.every((change) => !('outbox' in change))).toBe(true);
    await orchestrator.stop();
  });

  it('keeps a finished saga 7 days by default, and for its own retentionMs', async () => {
    for (const [retentionMs, kept] of [
      [undefined, 7 * DAY],
      [5000, 5000],
    ] as const) {
      state = new InMemoryStateStore({ now: () => clock.current });
      const orchestrator = make({ retentionMs });
      await orchestrator.start();
      await orchestrator.startSaga('order', { sku: 'a' }, { id: 's1' });
      await flush();
      await reply('s1', 1, { stepIndex: 0, outcome: 'failure', error: 'no stock' });
      for (let i = 0; i < 5 && (await orchestrator.get('s1'))?.state !== 'COMPENSATED'; i++) await flush();
      expect((await orchestrator.get('s1'))?.state).toBe('COMPENSATED');
      const finished = clock.current;
      clock.current = finished + kept - 1;
      expect(await orchestrator.get('s1')).not.toBeNull();
      clock.current = finished + kept;
      expect(await orchestrator.get('s1')).toBeNull();
      await orchestrator.stop();
    }
  });

  it('never lets a running saga expire', async () => {
    const orchestrator = make();
    await orchestrator.startSaga('order', { sku: 'a' }, { id: 's1' });
    clock.current += 365 * DAY;
    expect(await orchestrator.get('s1')).toMatchObject({ state: 'RUNNING' });
    expect(await orchestrator.get('nobody')).toBeNull();
  });

  it('applies replies sent before it first started', async () => {
    const orchestrator = make();
    await orchestrator.startSaga('order', { sku: 'a' }, { id: 's1' });
    await flush();
    await reply('s1', 0);
    await orchestrator.start();
    for (let i = 0; i < 5 && (await record('s1')).cursor === 0; i++) await flush();
    expect((await record('s1')).cursor).toBe(1);
    await orchestrator.stop();
  });

  it('logs and ignores a reply for a saga it does not know', async () => {
    const orchestrator = make();
    await orchestrator.start();
    await reply('ghost', 0);
    for (let i = 0; i < 5 && !messages('warn').length; i++) await flush();
    expect(lines).toContainEqual({ level: 'warn', fields: { sagaId: 'ghost' }, message: 'reply for an unknown saga ignored' });
    await orchestrator.stop();
  });

  it('has a reply handled once its transition is written, while the next command still waits for the bus', async () => {
    const handled: string[] = [];
    const subscribe = bus.subscribe.bind(bus);
    jest.spyOn(bus, 'subscribe').mockImplementation((options) =>
      subscribe({ ...options, handler: async (message) => (await options.handler(message), void handled.push(message.value)) }),
    );
    const orchestrator = make();
    await orchestrator.start();
    await orchestrator.startSaga('order', { sku: 'a' }, { id: 's1' });
    await flush();
    expect(commands).toHaveLength(1);

    let open!: () => void;
    bus.gate = new Promise((resolve) => (open = resolve));
    await reply('s1', 0, { result: 'held' });
    for (let i = 0; i < 5 && handled.length === 0; i++) await flush();
    // The partition is free for the next reply; the charge command is in the record's outbox, not sent yet.
    expect(handled).toHaveLength(1);
    expect((await record('s1')).outbox).toEqual([{ stepIndex: 1, action: 'command', attempt: 1 }]);
    expect(commands).toHaveLength(1);

    bus.gate = undefined;
    open();
    for (let i = 0; i < 5 && commands.length < 2; i++) await flush();
    expect(commands.map((command) => JSON.parse(command.value).name)).toEqual(['reserveStock', 'charge']);
    await orchestrator.stop();
    expect((await record('s1')).outbox).toEqual([]);
  });

  it('skips a due entry whose record is gone or finished, without an error', async () => {
    const orchestrator = make();
    await state.compareAndSetMany([{ key: sagaKey('gone'), expectedVersion: 0, value: '{}', due: { index: dueIndexKey(dueShardOf('gone', DEFAULT_DUE_SHARDS)), at: 0 } }]);
    await state.delete(sagaKey('gone'));
    const done = { id: 'done', definition: 'order', state: 'COMPLETED', steps: [], cursor: 0, outbox: [{ stepIndex: 0, action: 'command', attempt: 1 }] };
    await state.compareAndSetMany([{ key: sagaKey('done'), expectedVersion: 0, value: JSON.stringify(done), due: { index: dueIndexKey(dueShardOf('done', DEFAULT_DUE_SHARDS)), at: 0 } }]);
    expect(await orchestrator.sweep()).toBe(2);
    await flush();
    expect(messages('error')).toEqual([]);
    expect(commands).toEqual([]);
  });

  it('gives up on a saga after 20 conflicting writes in a row, and asks for a retry', async () => {
    const orchestrator = make();
    await orchestrator.startSaga('order', { sku: 'a' }, { id: 's1' });
    await flush();
    clock.current += 1000;
    const writes = jest.spyOn(state, 'compareAndSetMany').mockResolvedValue(null);
    expect(await orchestrator.sweep()).toBe(1);
    await flush();
    expect(writes).toHaveBeenCalledTimes(20);
    expect(lines).toContainEqual({ level: 'error', fields: { err: 'saga s1: too many concurrent updates' }, message: 'saga work failed; the sweeper tries again' });
  });

  describe('the sweeper', () => {
    it('sweeps at start, then every 250 ms by default, or every sweepIntervalMs', async () => {
      for (const [sweepIntervalMs, every] of [
        [undefined, 250],
        [1000, 1000],
      ] as const) {
        clock = new ManualClock();
        const orchestrator = make({ sweepIntervalMs });
        await orchestrator.start();
        for (let i = 0; i < 3; i++) {
          clock.advance(clock.delays[clock.delays.length - 1]);
          await flush();
        }
        expect(clock.delays).toEqual([0, every, every, every]);
        await orchestrator.stop();
        expect(clock.pending()).toBe(0);
      }
    });

    it('backs off from 200 ms up to 5 s while sweeps fail, logs the first failure and every 20th, and resets once a sweep works', async () => {
      jest.spyOn(Math, 'random').mockReturnValue(0);
      const claim = jest.spyOn(state, 'claimDue').mockRejectedValue(new BackendUnavailableError('redis', 'down'));
      const orchestrator = make();
      await orchestrator.start();
      for (let i = 0; i < 21; i++) {
        clock.advance(clock.delays[clock.delays.length - 1]);
        await flush();
      }
      expect(clock.delays.slice(0, 9)).toEqual([0, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
      const failures = lines.filter((l) => l.message === 'saga sweep failed; retrying');
      expect(failures.map((l) => l.fields.failures)).toEqual([1, 20]);
      expect(failures[0].fields).toEqual({ err: 'redis: down', failures: 1, retryInMs: 200 });
      claim.mockRestore();
      clock.advance(clock.delays[clock.delays.length - 1]);
      await flush();
      expect(clock.delays[clock.delays.length - 1]).toBe(250);
      await orchestrator.stop();
    });

    it('takes a quarter off each wait at most, at random', async () => {
      jest.spyOn(Math, 'random').mockReturnValue(1);
      jest.spyOn(state, 'claimDue').mockRejectedValue(new BackendUnavailableError('redis', 'down'));
      const orchestrator = make();
      await orchestrator.start();
      clock.advance(0);
      await flush();
      expect(clock.delays).toEqual([0, 160]);
      await orchestrator.stop();
    });

    it('sweeps no more once stopped, and stop waits for the work in flight', async () => {
      const orchestrator = make();
      await orchestrator.start();
      let open!: () => void;
      bus.gate = new Promise((resolve) => (open = resolve));
      await orchestrator.startSaga('order', { sku: 'a' }, { id: 's1' });
      let stopped = false;
      const stopping = orchestrator.stop().then(() => (stopped = true));
      await flush();
      expect(stopped).toBe(false);
      bus.gate = undefined;
      open();
      await stopping;
      expect((await record('s1')).outbox).toEqual([]);
      clock.advance(10_000);
      expect(clock.pending()).toBe(0);
    });
  });
});
