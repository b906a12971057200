/** The participant kit on the embedded backends: once per (saga, step, action), never after its compensation, outside calls at most once. */
import { InMemoryEventBus, type EventMessage } from '@trellis/kit/internal/events';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { createLogger } from '@trellis/kit/internal/logging';
import { dedupeKey, handleSagaCommands, onceKey, SagaRefusal, type SagaCommand, type SagaHandler, type SagaReply } from '@trellis/kit/internal/saga';
import { eventually } from '../../../support/graphql';
import { ManualClock } from '@trellis/kit/testing';

const logger = createLogger({ service: 'test', level: 'silent' });

const command = (action: 'command' | 'compensation', name: string, extra: Partial<SagaCommand> = {}): SagaCommand => ({
  sagaId: 's1',
  saga: 'demo',
  step: 'charge',
  stepIndex: 1,
  action,
  name,
  attempt: 1,
  payload: { amount: 5 },
  ...extra,
});

describe('handleSagaCommands', () => {
  let bus: InMemoryEventBus;
  let state: InMemoryStateStore;
  let replies: SagaReply[];
  let replyHeaders: Array<Record<string, string>>;
  let dead: EventMessage[];
  let calls: string[];

  const send = (c: SagaCommand | string, headers: Record<string, string> = {}) =>
    bus.publish('saga.commands.pay', { key: 's1', value: typeof c === 'string' ? c : JSON.stringify(c), headers });

  beforeEach(async () => {
    bus = new InMemoryEventBus();
    state = new InMemoryStateStore();
    replies = [];
    replyHeaders = [];
    dead = [];
    calls = [];
    await bus.subscribe({ groupId: 'replies', topics: ['saga.replies'], fromBeginning: true, handler: async (m) => void (replies.push(JSON.parse(m.value)), replyHeaders.push(m.headers)) });
    await bus.subscribe({ groupId: 'dlq', topics: ['saga.commands.pay.dlq'], fromBeginning: true, handler: async (m) => void dead.push(m) });
  });
  afterEach(() => bus.close());

  const start = (handlers: Record<string, SagaHandler>, onceWaitMs = 50) => handleSagaCommands('pay', handlers, { events: bus, state, logger, onceWaitMs });

  const charge: SagaHandler = (async (payload: { amount: number }, { once, read }) => {
    const existing = await read('balance');
    const { id } = await once('provider', async () => (calls.push('capture'), { id: `cap-${calls.length}` }));
    return { writes: [{ key: 'balance', expectedVersion: existing?.version ?? 0, value: String(payload.amount) }], result: { id } };
  }) as SagaHandler;
  const refund: SagaHandler = (async (_payload: never, { outcomeOf }) => {
    calls.push(`refund:${(await outcomeOf('command'))?.outcome ?? 'none'}`);
    return { result: { refunded: true } };
  }) as SagaHandler;

  it('applies a command once and replays its outcome, with the correlation and trace headers, to every duplicate', async () => {
    await start({ charge, refund });
    const headers = { 'x-correlation-id': 'c1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', other: 'x' };
    for (let i = 0; i < 3; i++) await send(command('command', 'charge'), headers);
    await eventually(async () => expect(replies).toHaveLength(3), 5000, 10);
    expect(calls).toEqual(['capture']);
    expect(replies.every((r) => JSON.stringify(r) === JSON.stringify(replies[0]))).toBe(true);
    expect(replies[0]).toEqual({ sagaId: 's1', stepIndex: 1, action: 'command', outcome: 'success', result: { id: 'cap-1' } });
    // Correlation id and trace context travel on; nothing else does.
    expect(replyHeaders[0]).toEqual({ 'x-correlation-id': 'c1', traceparent: headers.traceparent });
    expect((await state.getVersioned('balance'))?.value).toBe('5');
    expect(JSON.parse((await state.getVersioned(dedupeKey('s1', 1, 'command')))!.value)).toMatchObject({ outcome: 'success' });
  });

  it('refuses a command that arrives after its compensation, and the compensation sees no command', async () => {
    await start({ charge, refund });
    await send(command('compensation', 'refund'));
    await send(command('command', 'charge'));
    await eventually(async () => expect(replies).toHaveLength(2), 5000, 10);
    expect(calls).toEqual(['refund:none']);
    expect(replies[1]).toMatchObject({ action: 'command', outcome: 'failure', error: 'charge arrived after its compensation; not applied' });
    expect(await state.getVersioned('balance')).toBeNull();
  });

  it('replies a refusal as a failure; a refused compensation is not recorded, so its retry runs again', async () => {
    let refusals = 0;
    const stubborn: SagaHandler = (async () => {
      refusals += 1;
      throw new SagaRefusal(`locked ${refusals}`);
    }) as SagaHandler;
    await start({ charge: stubborn, refund: stubborn });
    await send(command('command', 'charge'));
    await send(command('command', 'charge'));
    await send(command('compensation', 'refund'));
    await send(command('compensation', 'refund', { attempt: 2 }));
    await eventually(async () => expect(replies).toHaveLength(4), 5000, 10);
    // The command's refusal is final (recorded, replayed); each compensation attempt really ran.
    expect(replies.map((r) => r.error)).toEqual(['locked 1', 'locked 1', 'locked 2', 'locked 3']);
    expect(await state.getVersioned(dedupeKey('s1', 1, 'compensation'))).toBeNull();
  });

  it('dead-letters an unparseable command and one with no handler at once, and goes on', async () => {
    await start({ charge });
    await send('not json');
    await send(command('command', 'teleport'));
    await send(command('command', 'charge'));
    await eventually(async () => expect(replies).toHaveLength(1), 5000, 10);
    await eventually(async () => expect(dead).toHaveLength(2), 5000, 10);
    expect(dead[0].headers['x-dlq-error']).toMatch(/^poison: not a saga command/);
    expect(dead[1].headers['x-dlq-error']).toBe('poison: pay has no handler for teleport');
  });

  it('reports an outside call an earlier run started and never finished as uncertain, without calling it again', async () => {
    await state.set(onceKey('s1', 1, 'command', 'provider'), JSON.stringify({ state: 'started' }));
    await start({ charge });
    await send(command('command', 'charge'));
    await eventually(async () => expect(replies).toHaveLength(1), 5000, 10);
    expect(calls).toEqual([]);
    expect(replies[0]).toMatchObject({ outcome: 'failure', uncertain: true });
    expect(replies[0].error).toMatch(/outcome of provider is unknown/);
  });

  it('takes over an abandoned call that is safe to repeat', async () => {
    const repeatable: SagaHandler = (async (_p: never, { once }) => ({
      result: await once('refund', async () => (calls.push('refund'), 'ok'), { repeatable: true }),
    })) as SagaHandler;
    await state.set(onceKey('s1', 1, 'compensation', 'refund'), JSON.stringify({ state: 'started' }));
    await start({ refund: repeatable });
    await send(command('compensation', 'refund'));
    await eventually(async () => expect(replies).toHaveLength(1), 5000, 10);
    expect(calls).toEqual(['refund']);
    expect(replies[0]).toMatchObject({ outcome: 'success', result: 'ok' });
  });

  it('lets a failed outside call be tried again by the next run', async () => {
    let failures = 1;
    const flaky: SagaHandler = (async (_p: never, { once }) => ({
      result: await once('provider', async () => {
        calls.push('call');
        if (failures-- > 0) throw new SagaRefusal('provider said no');
        return 'charged';
      }),
    })) as SagaHandler;
    await start({ charge: flaky, refund: flaky });
    await send(command('compensation', 'refund'));
    await send(command('compensation', 'refund', { attempt: 2 }));
    await eventually(async () => expect(replies).toHaveLength(2), 5000, 10);
    expect(calls).toEqual(['call', 'call']);
    expect(replies.map((r) => r.outcome)).toEqual(['failure', 'success']);
  });

  it('waits stepPauseMs on its clock before applying a command, and applies it once the time has passed', async () => {
    const clock = new ManualClock();
    await handleSagaCommands('pay', { charge, refund }, { events: bus, state, logger, onceWaitMs: 50, clock, stepPauseMs: 400 });
    await send(command('command', 'charge'));
    await eventually(async () => expect(clock.delays).toContain(400));
    expect([calls, replies]).toEqual([[], []]);
    clock.advance(399);
    expect(calls).toEqual([]);
    clock.advance(1);
    await eventually(async () => expect(replies).toHaveLength(1));
    expect(calls).toEqual(['capture']);
  });
});
