/**
 * `slotOf`: a participant files a step's dedupe records in the slot of the keys it writes (on Redis
 * Cluster one atomic write is one slot), still honours records of the layout before it named one,
 * and a slot with no hash tag is dead-lettered before anything is written.
 */
import { InMemoryEventBus, type EventMessage } from '@trellis/kit/internal/events';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { createLogger } from '@trellis/kit/internal/logging';
import { dedupeKey, handleSagaCommands, type SagaCommand, type SagaHandler, type SagaReply } from '@trellis/kit/internal/saga';
import { hashTagOf } from '@trellis/kit/internal/saga/keys';
import { eventually } from '../../../support/graphql';

const logger = createLogger({ service: 'test', level: 'silent' });

const command = (action: 'command' | 'compensation', account = 'A'): SagaCommand => ({
  sagaId: 's1',
  saga: 'demo',
  step: 'debit',
  stepIndex: 1,
  action,
  name: action === 'command' ? 'debit' : 'credit',
  attempt: 1,
  payload: { account, amount: 5 },
});

const balanceKey = (account: string) => `ledger:balance:{acct:${account}}`;

describe('handleSagaCommands with slotOf', () => {
  let bus: InMemoryEventBus;
  let state: InMemoryStateStore;
  let replies: SagaReply[];
  let dead: EventMessage[];
  let runs: string[];

  const send = (c: SagaCommand) => bus.publish('saga.commands.ledger', { key: c.sagaId, value: JSON.stringify(c) });

  const debit: SagaHandler = (async (payload: { account: string; amount: number }, { read }) => {
    runs.push('debit');
    const stored = await read(balanceKey(payload.account));
    return { writes: [{ key: balanceKey(payload.account), expectedVersion: stored?.version ?? 0, value: String(Number(stored?.value ?? 100) - payload.amount) }], result: { debited: payload.amount } };
  }) as SagaHandler;
  const credit: SagaHandler = (async (payload: { account: string; amount: number }, { read, outcomeOf }) => {
    runs.push(`credit after ${(await outcomeOf('command'))?.outcome ?? 'nothing'}`);
    if ((await outcomeOf('command'))?.outcome !== 'success') return { result: { credited: 0 } };
    const stored = await read(balanceKey(payload.account));
    return { writes: [{ key: balanceKey(payload.account), expectedVersion: stored!.version, value: String(Number(stored!.value) + payload.amount) }], result: { credited: payload.amount } };
  }) as SagaHandler;

  beforeEach(async () => {
    bus = new InMemoryEventBus();
    state = new InMemoryStateStore();
    replies = [];
    dead = [];
    runs = [];
    await bus.subscribe({ groupId: 'replies', topics: ['saga.replies'], fromBeginning: true, handler: async (m) => void replies.push(JSON.parse(m.value)) });
    await bus.subscribe({ groupId: 'dlq', topics: ['saga.commands.ledger.dlq'], fromBeginning: true, handler: async (m) => void dead.push(m) });
  });
  afterEach(() => bus.close());

  const start = (slotOf: (c: SagaCommand) => string) => handleSagaCommands('ledger', { debit, credit }, { events: bus, state, logger, slotOf });
  const accountSlot = (c: SagaCommand) => balanceKey((c.payload as { account: string }).account);

  it('files both actions of a step in the slot of the key it names, and dedupes and orders them there', async () => {
    await start(accountSlot);
    await send(command('command'));
    await send(command('command'));
    await send(command('compensation'));
    await eventually(async () => expect(replies).toHaveLength(3), 5000, 10);

    expect(runs).toEqual(['debit', 'credit after success']);
    expect(replies[1]).toEqual(replies[0]);
    expect((await state.getVersioned(balanceKey('A')))?.value).toBe('100');
    // The tag of the named key, not the saga's: on Cluster the record commits with the balance.
    expect(JSON.parse((await state.getVersioned(dedupeKey('s1', 1, 'command', '{acct:A}')))!.value)).toEqual({ outcome: 'success', result: { debited: 5 } });
    expect(JSON.parse((await state.getVersioned(dedupeKey('s1', 1, 'compensation', '{acct:A}')))!.value)).toEqual({ outcome: 'success', result: { credited: 5 } });
    expect(await state.getVersioned(dedupeKey('s1', 1, 'command'))).toBeNull();
  });

  it('refuses a command arriving after its compensation in the slot, as without one', async () => {
    await start(accountSlot);
    await send(command('compensation'));
    await send(command('command'));
    await eventually(async () => expect(replies).toHaveLength(2), 5000, 10);
    expect(runs).toEqual(['credit after nothing']);
    expect(replies[1]).toMatchObject({ action: 'command', outcome: 'failure', error: 'debit arrived after its compensation; not applied' });
    expect(await state.getVersioned(balanceKey('A'))).toBeNull();
  });

  it("honours records written in the saga's own slot before the participant named one: no command applied twice", async () => {
    // Handled before an upgrade that added slotOf: the command under the saga's tag, a second saga's compensation too.
    await state.compareAndSet(balanceKey('A'), 0, '95');
    await state.compareAndSet(dedupeKey('s1', 1, 'command'), 0, JSON.stringify({ outcome: 'success', result: { debited: 5, before: true } }));
    await state.compareAndSet(dedupeKey('s2', 1, 'compensation'), 0, JSON.stringify({ outcome: 'success', result: { credited: 0 } }));
    await start(accountSlot);
    await send(command('command'));
    await send({ ...command('command'), sagaId: 's2' });
    await send(command('compensation'));
    await eventually(async () => expect(replies).toHaveLength(3), 5000, 10);

    expect(replies[0]).toEqual({ sagaId: 's1', stepIndex: 1, action: 'command', outcome: 'success', result: { debited: 5, before: true } });
    expect(replies[1]).toMatchObject({ sagaId: 's2', outcome: 'failure', error: 'debit arrived after its compensation; not applied' });
    // The compensation finds the earlier command's outcome and undoes it.
    expect(runs).toEqual(['credit after success']);
    expect(replies[2]).toMatchObject({ sagaId: 's1', action: 'compensation', outcome: 'success', result: { credited: 5 } });
    expect((await state.getVersioned(balanceKey('A')))?.value).toBe('100');
  });

  it('dead-letters a command whose slot has no hash tag, writing nothing', async () => {
    await start(() => 'ledger:balance:A');
    await send(command('command'));
    await eventually(async () => expect(dead).toHaveLength(1), 5000, 10);
    expect(dead[0].headers['x-dlq-error']).toBe('poison: slotOf gave "ledger:balance:A" for debit of saga s1: not a {hash tag}');
    expect(runs).toEqual([]);
    expect(replies).toEqual([]);
    expect(await state.keys('')).toEqual([]);
  });
});

describe('hashTagOf', () => {
  it('reads the tag as Redis Cluster does: the first { to the next }, not empty', () => {
    expect(hashTagOf('{catalog:stock}')).toBe('{catalog:stock}');
    expect(hashTagOf('orders:order:{orders}:o-1')).toBe('{orders}');
    expect(hashTagOf('a{b}c{d}')).toBe('{b}');
    expect(hashTagOf('a}{b}')).toBe('{b}');
    // An empty first tag makes Redis hash the whole key; it does not look further.
    expect(hashTagOf('{}x{y}')).toBeUndefined();
    expect(hashTagOf('no-tag')).toBeUndefined();
    expect(hashTagOf('open{only')).toBeUndefined();
  });
});
