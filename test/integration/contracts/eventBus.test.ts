/** One contract, three implementations: in-memory, through the dev hub, and real Kafka. */
import { InMemoryEventBus, KafkaEventBus, type EventBus, type EventMessage, type Subscription } from '../../../shared/events';
import { DevHubClient, DevHubServer } from '../../../shared/devhub';
import { eventually } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';

interface Subject {
  bus: EventBus;
  close: () => Promise<void>;
}

const implementations: Array<[string, () => Promise<Subject>]> = [
  ['in-memory', async () => ({ bus: new InMemoryEventBus({ retryDelayMs: 1 }), close: async () => undefined })],
  [
    'dev hub',
    async () => {
      const server = new DevHubServer({ targets: { events: new InMemoryEventBus({ retryDelayMs: 1 }) } });
      const client = await DevHubClient.connect(await server.start());
      return { bus: client.remote<EventBus>('events'), close: async () => (await client.close(), await server.stop()) };
    },
  ],
  [
    'kafka',
    async () => {
      const bus = new KafkaEventBus({ brokers: realBackends.kafkaBrokers, retryDelayMs: 10, clientId: 'contract' });
      return { bus, close: () => bus.close() };
    },
  ],
];

describe.each(implementations)('EventBus contract: %s', (_name, make) => {
  let subject: Subject;
  let bus: EventBus;
  let topic: string;
  const subscriptions: Subscription[] = [];

  beforeEach(async () => {
    subject = await make();
    bus = subject.bus;
    topic = uniquePrefix('topic');
    await bus.ensureTopics([topic]);
  });
  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
    await subject.close();
  });

  const collect = async (groupId: string, into: EventMessage[], extra: { topics?: string[] } = {}) => {
    subscriptions.push(
      await bus.subscribe({ groupId, topics: extra.topics ?? [topic], fromBeginning: true, handler: async (m) => void into.push(m) }),
    );
  };

  it('delivers messages with key and headers, in order per key', async () => {
    const received: EventMessage[] = [];
    await bus.publish(
      topic,
      Array.from({ length: 10 }, (_, i) => ({
        key: 'saga-1',
        value: JSON.stringify({ n: i }),
        headers: { 'x-correlation-id': 'corr-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      })),
    );
    await collect(uniquePrefix('group'), received);
    await eventually(async () => expect(received).toHaveLength(10), 20_000);
    expect(received.map((m) => JSON.parse(m.value).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(received[0]).toMatchObject({ topic, key: 'saga-1' });
    expect(received[0].headers).toMatchObject({ 'x-correlation-id': 'corr-1', traceparent: expect.stringMatching(/^00-/) });
  });

  it('gives every group every message', async () => {
    const first: EventMessage[] = [];
    const second: EventMessage[] = [];
    await collect(uniquePrefix('a'), first);
    await collect(uniquePrefix('b'), second);
    await bus.publish(topic, [{ key: 'k1', value: 'one' }, { key: 'k2', value: 'two' }]);
    await eventually(async () => {
      expect(first.map((m) => m.value).sort()).toEqual(['one', 'two']);
      expect(second.map((m) => m.value).sort()).toEqual(['one', 'two']);
    }, 20_000);
  });

  it('shares a group among its members: each message handled once', async () => {
    const group = uniquePrefix('shared');
    const handled: string[] = [];
    await collect(group, handled as unknown as EventMessage[]);
    await collect(group, handled as unknown as EventMessage[]);
    await bus.publish(topic, Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `m${i}` })));
    await eventually(async () => expect(handled).toHaveLength(30), 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(new Set((handled as unknown as EventMessage[]).map((m) => m.value)).size).toBe(30);
  });

  it('sends a message whose handler keeps failing to <topic>.dlq with the error, and goes on', async () => {
    const handled: string[] = [];
    const dead: EventMessage[] = [];
    subscriptions.push(
      await bus.subscribe({
        groupId: uniquePrefix('dlq-test'),
        topics: [topic],
        fromBeginning: true,
        maxAttempts: 2,
        handler: async (message) => {
          const parsed = JSON.parse(message.value) as { n?: unknown };
          if (typeof parsed.n !== 'number') throw new Error('wrong shape: n must be a number');
          handled.push(message.value);
        },
      }),
    );
    await collect(uniquePrefix('dlq-reader'), dead, { topics: [`${topic}.dlq`] });
    await bus.publish(topic, [
      { key: 'k', value: '{"n":1}' },
      { key: 'k', value: 'not json at all' },
      { key: 'k', value: '{"n":"two"}' },
      { key: 'k', value: '{"n":3}' },
    ]);
    await eventually(async () => expect(handled).toEqual(['{"n":1}', '{"n":3}']), 30_000);
    await eventually(async () => expect(dead).toHaveLength(2), 30_000);
    expect(dead.map((m) => m.value)).toEqual(['not json at all', '{"n":"two"}']);
    expect(dead[0].headers['x-dlq-error']).toMatch(/JSON/);
    expect(dead[1].headers['x-dlq-error']).toBe('wrong shape: n must be a number');
    expect(dead[0].headers['x-dlq-source-topic']).toBe(topic);
  });
});

describe('KafkaEventBus namespace', () => {
  it('keeps two namespaces on one cluster apart while callers use the same topic names', async () => {
    const make = (namespace: string) => new KafkaEventBus({ brokers: realBackends.kafkaBrokers, clientId: 'namespace', namespace });
    const [left, right] = [make(`${uniquePrefix('ns')}.`), make(`${uniquePrefix('ns')}.`)];
    const received: Record<'left' | 'right', EventMessage[]> = { left: [], right: [] };
    const subscriptions: Subscription[] = [];
    try {
      for (const [name, bus] of [['left', left], ['right', right]] as const) {
        await bus.ensureTopics(['saga.events']);
        subscriptions.push(
          await bus.subscribe({ groupId: 'watchers', topics: ['saga.events'], fromBeginning: true, handler: async (m) => void received[name].push(m) }),
        );
      }
      await left.publish('saga.events', { key: 'a', value: 'from-left' });
      await right.publish('saga.events', { key: 'a', value: 'from-right' });
      await eventually(async () => {
        expect(received.left.map((m) => m.value)).toEqual(['from-left']);
        expect(received.right.map((m) => m.value)).toEqual(['from-right']);
      }, 30_000);
      expect(received.left[0].topic).toBe('saga.events');
    } finally {
      await Promise.all(subscriptions.map((s) => s.stop()));
      await Promise.all([left.close(), right.close()]);
    }
  });
});
