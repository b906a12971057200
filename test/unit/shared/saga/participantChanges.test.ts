/** A participant announces the entity changes its handler reports: after the commit, before the reply, again on a redelivery, never for a refusal. */
import { createChangeAnnouncer, InMemoryEventBus, type ChangeAnnouncement } from '@trellis/kit/internal/events';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { createLogger } from '@trellis/kit/internal/logging';
import { handleSagaCommands, SagaRefusal, type SagaCommand, type SagaHandler, type SagaReply } from '@trellis/kit/internal/saga';
import { eventually } from '../../../support/graphql';
import { recordingLogger } from '../../../support/recordingLogger';

const logger = createLogger({ service: 'test', level: 'silent' });

const command = (name: string, sagaId = 's1'): SagaCommand => ({ sagaId, saga: 'demo', step: 'reserve', stepIndex: 0, action: 'command', name, attempt: 1, payload: { id: 'p1' } });

describe('handleSagaCommands: entity changes', () => {
  let bus: InMemoryEventBus;
  let state: InMemoryStateStore;
  let replies: SagaReply[];
  /** What was announced, with the stock as the store held it at that moment and the replies sent by then. */
  let announced: Array<{ changes: ChangeAnnouncement[]; stock: string | undefined; repliesBefore: number }>;

  beforeEach(async () => {
    bus = new InMemoryEventBus();
    state = new InMemoryStateStore();
    replies = [];
    announced = [];
    await bus.subscribe({ groupId: 'replies', topics: ['saga.replies'], fromBeginning: true, handler: async (m) => void replies.push(JSON.parse(m.value)) });
    await handleSagaCommands('stock', { reserve, refuse }, {
      events: bus,
      state,
      logger,
      announceChange: async (changes) => {
        announced.push({ changes: [...(changes as ChangeAnnouncement[])], stock: (await state.getVersioned('stock:p1'))?.value, repliesBefore: replies.length });
      },
    });
  });
  afterEach(() => bus.close());

  const reserve: SagaHandler = (async (payload: { id: string }, { read }) => {
    const stored = await read(`stock:${payload.id}`);
    return {
      writes: [{ key: `stock:${payload.id}`, expectedVersion: stored?.version ?? 0, value: String(Number(stored?.value ?? 10) - 1) }],
      result: { reserved: true },
      changes: [{ type: 'Product', key: { id: payload.id }, fields: ['inStock'] }],
    };
  }) as SagaHandler;
  const refuse: SagaHandler = (async () => {
    throw new SagaRefusal('no stock');
  }) as SagaHandler;
  const send = (c: SagaCommand) => bus.publish('saga.commands.stock', { key: c.sagaId, value: JSON.stringify(c) });

  it('announces once the write is committed and before the reply, and keeps the changes out of the reply', async () => {
    await send(command('reserve'));
    await eventually(async () => expect(replies).toHaveLength(1));
    expect(announced).toEqual([{ changes: [{ type: 'Product', key: { id: 'p1' }, fields: ['inStock'] }], stock: '9', repliesBefore: 0 }]);
    expect(replies[0]).toEqual({ sagaId: 's1', stepIndex: 0, action: 'command', outcome: 'success', result: { reserved: true } });
  });

  it('announces a redelivered command again without applying it twice (a crash between the commit and the announcement loses nothing)', async () => {
    await send(command('reserve'));
    await send(command('reserve'));
    await eventually(async () => expect(replies).toHaveLength(2));
    expect(announced.map((a) => a.stock)).toEqual(['9', '9']);
    expect(replies[1]).toEqual(replies[0]);
  });

  it('announces nothing for a refusal', async () => {
    await send(command('refuse'));
    await send(command('reserve', 's2'));
    await eventually(async () => expect(replies).toHaveLength(2));
    expect(replies.find((reply) => reply.sagaId === 's1')).toMatchObject({ outcome: 'failure', error: 'no stock' });
    expect(announced).toHaveLength(1);
  });

  it('replies all the same when the announcer refuses a change (a handler bug), and logs it', async () => {
    const { logger: recording, lines } = recordingLogger();
    const events = new InMemoryEventBus();
    const seen: SagaReply[] = [];
    await events.subscribe({ groupId: 'replies', topics: ['saga.replies'], fromBeginning: true, handler: async (m) => void seen.push(JSON.parse(m.value)) });
    const keyless: SagaHandler = (async () => ({ result: { done: true }, changes: [{ type: 'Product', key: {} }] })) as SagaHandler;
    await handleSagaCommands('stock', { keyless }, { events, state, logger: recording, announceChange: createChangeAnnouncer({ events, source: 'catalog', logger: recording }) });
    await events.publish('saga.commands.stock', { key: 's1', value: JSON.stringify(command('keyless')) });
    await eventually(async () => expect(seen).toHaveLength(1));
    expect(seen[0]).toMatchObject({ outcome: 'success' });
    expect(lines.find((line) => line.level === 'error')).toMatchObject({ msg: 'keyless: its entity changes could not be announced', sagaId: 's1' });
    await events.close();
  });
});
