/** One contract, three implementations: in-memory, through the dev hub, and real Kafka. */
import { InMemoryEventBus, KafkaEventBus, replayDeadLetters, type EventBus, type EventMessage, type Subscription } from '@trellis/kit/internal/events';
import { DevHubClient, DevHubServer } from '@trellis/kit/internal/devhub';
import { BackendUnavailableError, PoisonMessageError } from '@trellis/kit/internal/errors';
import { eventually } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';

interface Subject {
  bus: EventBus;
  close: () => Promise<void>;
}

const implementations: Array<[string, () => Promise<Subject>]> = [
  ['in-memory', async () => ({ bus: new InMemoryEventBus(), close: async () => undefined })],
  [
    'dev hub',
    async () => {
      const server = new DevHubServer({ targets: { events: new InMemoryEventBus() } });
      const client = await DevHubClient.connect(await server.start());
      return { bus: client.remote<EventBus>('events'), close: async () => (await client.close(), await server.stop()) };
    },
  ],
  [
    'kafka',
    async () => {
      const bus = new KafkaEventBus({ ...realBackends.kafka, clientId: 'contract' });
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
    // An end marker behind every message, on its key: once each marker is in, a second delivery
    // of anything before it (order is kept per key) would have arrived too.
    await bus.publish(topic, Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `end${i}` })));
    const values = () => (handled as unknown as EventMessage[]).map((m) => m.value);
    await eventually(async () => expect(values().filter((v) => v.startsWith('end'))).toHaveLength(30), 30_000);
    expect(values()).toHaveLength(60);
    expect(new Set(values()).size).toBe(60);
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
    expect(dead[1].headers['x-dlq-error']).toBe('failed 2 times: wrong shape: n must be a number');
    expect(dead[0].headers['x-dlq-source-topic']).toBe(topic);
  });
  it('dead-letters a poison message at once, with the reason, and never retries it', async () => {
    const attempts: string[] = [];
    const dead: EventMessage[] = [];
    subscriptions.push(
      await bus.subscribe({
        groupId: uniquePrefix('poison'),
        topics: [topic],
        fromBeginning: true,
        maxAttempts: 5,
        handler: async (message) => {
          attempts.push(message.value);
          if (message.value === 'garbage') throw new PoisonMessageError('not a saga message: unexpected token');
        },
      }),
    );
    await collect(uniquePrefix('poison-reader'), dead, { topics: [`${topic}.dlq`] });
    await bus.publish(topic, [{ key: 'k', value: 'garbage' }, { key: 'k', value: 'fine' }]);
    await eventually(async () => expect(attempts).toEqual(['garbage', 'fine']), 30_000);
    await eventually(async () => expect(dead).toHaveLength(1), 30_000);
    expect(dead[0].headers['x-dlq-error']).toBe('poison: not a saga message: unexpected token');
  });

  it('retries a retriable failure for as long as it lasts, holding back at most its own partition and never its key order', async () => {
    let outage = true;
    const handled: EventMessage[] = [];
    const dead: EventMessage[] = [];
    let blocked: EventMessage | undefined;
    let failures = 0;
    subscriptions.push(
      await bus.subscribe({
        groupId: uniquePrefix('outage'),
        topics: [topic],
        fromBeginning: true,
        maxAttempts: 1, // a retriable error is not bounded by it
        backoff: { initialDelayMs: 20, maxDelayMs: 100, jitter: 0 },
        handler: async (message) => {
          if (message.key === 'blocked' && outage) {
            blocked = message;
            failures += 1;
            throw new BackendUnavailableError('redis', 'connection refused');
          }
          handled.push(message);
        },
      }),
    );
    await collect(uniquePrefix('outage-dlq'), dead, { topics: [`${topic}.dlq`] });
    await bus.publish(topic, [{ key: 'blocked', value: 'first' }, ...Array.from({ length: 24 }, (_, i) => ({ key: `k${i}`, value: `m${i}` })), { key: 'blocked', value: 'second' }]);
    await eventually(async () => expect(blocked).toBeDefined(), 20_000);
    // Other partitions go on while the blocked one is retried again and again; nothing of its key passes it.
    await eventually(async () => {
      expect(failures).toBeGreaterThanOrEqual(5);
      expect(handled.filter((m) => m.partition !== blocked!.partition).length).toBeGreaterThan(0);
    }, 20_000);
    expect(handled.filter((m) => m.key === 'blocked')).toEqual([]);
    outage = false;
    await eventually(async () => expect(handled.filter((m) => m.key === 'blocked').map((m) => m.value)).toEqual(['first', 'second']), 20_000);
    // Every message once, and each key's in the order published.
    expect(handled).toHaveLength(26);
    expect(new Set(handled.map((m) => `${m.key}/${m.value}`)).size).toBe(26);
    expect(dead).toEqual([]);
  });

  it('replays dead letters to their source topic once their cause is fixed', async () => {
    let fixed = false;
    const handled: EventMessage[] = [];
    subscriptions.push(
      await bus.subscribe({
        groupId: uniquePrefix('replay'),
        topics: [topic],
        fromBeginning: true,
        maxAttempts: 1,
        handler: async (message) => {
          if (!fixed) throw new Error('handler bug');
          handled.push(message);
        },
      }),
    );
    const dead: EventMessage[] = [];
    await collect(uniquePrefix('replay-dlq'), dead, { topics: [`${topic}.dlq`] });
    await bus.publish(topic, { key: 'k', value: 'lost?', headers: { 'x-correlation-id': 'c-1' } });
    await eventually(async () => expect(dead).toHaveLength(1), 30_000);
    fixed = true;
    const group = uniquePrefix('replayer');
    expect(await replayDeadLetters(bus, [topic], { idleMs: 1500, groupId: group })).toEqual({ [topic]: 1 });
    await eventually(async () => expect(handled.map((m) => m.value)).toEqual(['lost?']), 30_000);
    expect(handled[0].headers).toMatchObject({ 'x-correlation-id': 'c-1', 'x-dlq-replayed': '1' });
    expect(handled[0].headers['x-dlq-error']).toBeUndefined();
    // The same group never replays a dead letter twice.
    expect(await replayDeadLetters(bus, [topic], { idleMs: 1500, groupId: group })).toEqual({ [topic]: 0 });
  });
});

describe('KafkaEventBus namespace', () => {
  it('keeps two namespaces on one cluster apart while callers use the same topic names', async () => {
    const make = (namespace: string) => new KafkaEventBus({ ...realBackends.kafka, clientId: 'namespace', namespace });
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
