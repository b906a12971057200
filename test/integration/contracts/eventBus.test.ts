/** One contract, three implementations: in-memory, through the dev hub, and real Kafka. */
import { Partitioners } from 'kafkajs';
import { InMemoryEventBus, KafkaEventBus, partitionOf, replayDeadLetters, type EventBus, type EventMessage, type Subscription } from '../../../shared/events';
import { DevHubClient, DevHubServer } from '../../../shared/devhub';
import { BackendUnavailableError, PoisonMessageError } from '../../../shared/errors';
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
      const bus = new KafkaEventBus({ brokers: realBackends.kafkaBrokers, clientId: 'contract' });
      return { bus, close: () => bus.close() };
    },
  ],
];

/**
 * Keys that share one partition on every implementation: the embedded bus's 6 (FNV-1a) and the
 * 12 of Kafka topics this bus creates (kafkajs's default partitioner, murmur2; so 3 or 6 as well).
 */
function keysInOnePartition(count: number): string[] {
  const kafkaPartitionOf = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: 12 }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  const where = (key: string) => `${partitionOf(key, 6)}/${kafkaPartitionOf({ topic: 't', partitionMetadata, message: { key, value: null } })}`;
  const keys = ['same-0'];
  for (let i = 1; keys.length < count; i++) if (where(`same-${i}`) === where(keys[0])) keys.push(`same-${i}`);
  return keys;
}

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

  it('retries a retriable failure for as long as it lasts, holding back only its own key, in order', async () => {
    let outage = true;
    const handled: EventMessage[] = [];
    const dead: EventMessage[] = [];
    let failures = 0;
    // Neighbours share the blocked key's partition: only the key waits, not the partition.
    const [blockedKey, ...neighbours] = keysInOnePartition(4);
    subscriptions.push(
      await bus.subscribe({
        groupId: uniquePrefix('outage'),
        topics: [topic],
        fromBeginning: true,
        maxAttempts: 1, // a retriable error is not bounded by it
        backoff: { initialDelayMs: 20, maxDelayMs: 100, jitter: 0 },
        handler: async (message) => {
          if (message.key === blockedKey && outage) {
            failures += 1;
            throw new BackendUnavailableError('redis', 'connection refused');
          }
          handled.push(message);
        },
      }),
    );
    await collect(uniquePrefix('outage-dlq'), dead, { topics: [`${topic}.dlq`] });
    await bus.publish(topic, [
      { key: blockedKey, value: 'first' },
      ...neighbours.map((key, i) => ({ key, value: `n${i}` })),
      ...Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `m${i}` })),
      { key: blockedKey, value: 'second' },
      ...neighbours.map((key, i) => ({ key, value: `n${i}-again` })),
    ]);
    // Its neighbours, before and after it in the partition, go on while it is retried again and again.
    await eventually(async () => {
      expect(failures).toBeGreaterThanOrEqual(5);
      expect(handled.filter((m) => neighbours.includes(m.key ?? ''))).toHaveLength(6);
      expect(handled.filter((m) => m.key?.startsWith('k'))).toHaveLength(20);
    }, 20_000);
    expect(handled.filter((m) => m.key === blockedKey)).toEqual([]);
    outage = false;
    await eventually(async () => expect(handled.filter((m) => m.key === blockedKey).map((m) => m.value)).toEqual(['first', 'second']), 20_000);
    expect(handled).toHaveLength(28);
    expect(dead).toEqual([]);
    const neighbour = handled.find((m) => m.key === neighbours[0])!;
    expect(handled.find((m) => m.key === blockedKey)!.partition).toBe(neighbour.partition);
  });

  it('handles different keys of one partition concurrently', async () => {
    const [waiting, releasing] = keysInOnePartition(2);
    let release!: () => void;
    const barrier = new Promise<void>((resolve) => (release = resolve));
    const handled: EventMessage[] = [];
    subscriptions.push(
      await bus.subscribe({
        groupId: uniquePrefix('barrier'),
        topics: [topic],
        fromBeginning: true,
        handler: async (message) => {
          // The first message waits for the one behind it: handled one at a time, neither ever ends.
          if (message.key === waiting) await barrier;
          else release();
          handled.push(message);
        },
      }),
    );
    await bus.publish(topic, [{ key: waiting, value: 'waits' }, { key: releasing, value: 'releases' }]);
    await eventually(async () => expect(handled.map((m) => m.value)).toEqual(['releases', 'waits']), 20_000);
    expect(handled[0].partition).toBe(handled[1].partition);
  });

  it('keeps the order of each key while keys run concurrently, one message of a key at a time', async () => {
    const keys = keysInOnePartition(3);
    const seen: Record<string, number[]> = Object.fromEntries(keys.map((key) => [key, []]));
    const running = new Set<string>();
    let overlappingKeys = 0;
    let sameKeyTwice = 0;
    subscriptions.push(
      await bus.subscribe({
        groupId: uniquePrefix('order'),
        topics: [topic],
        fromBeginning: true,
        handler: async (message) => {
          const key = message.key as string;
          if (running.has(key)) sameKeyTwice += 1;
          running.add(key);
          if (running.size > 1) overlappingKeys += 1;
          const n = Number(message.value);
          // Uneven work, so a later message of a key would overtake an earlier one if both ran.
          for (let i = 0; i < (n * 7) % 5; i++) await new Promise((resolve) => setTimeout(resolve, 1));
          seen[key].push(n);
          running.delete(key);
        },
      }),
    );
    await bus.publish(topic, Array.from({ length: 60 }, (_, i) => ({ key: keys[i % 3], value: String(i) })));
    await eventually(async () => expect(Object.values(seen).flat()).toHaveLength(60), 30_000);
    for (const [index, key] of keys.entries()) {
      expect(seen[key]).toEqual(Array.from({ length: 20 }, (_, i) => i * 3 + index));
    }
    expect(sameKeyTwice).toBe(0);
    expect(overlappingKeys).toBeGreaterThan(0);
  });

  it('delivers a backlog larger than a partition\'s window (500 unsettled) in order, pausing and resuming it', async () => {
    const received: number[] = [];
    await bus.publish(topic, Array.from({ length: 1200 }, (_, i) => ({ key: 'backlog', value: String(i) })));
    subscriptions.push(
      await bus.subscribe({
        groupId: uniquePrefix('backlog'),
        topics: [topic],
        fromBeginning: true,
        handler: async (m) => void received.push(Number(m.value)),
      }),
    );
    await eventually(async () => expect(received).toHaveLength(1200), 30_000);
    expect(received).toEqual(Array.from({ length: 1200 }, (_, i) => i));
  });

  it('loses nothing when a consumer stops mid-batch and another member takes over', async () => {
    const group = uniquePrefix('takeover');
    const values = Array.from({ length: 40 }, (_, i) => `v${i}`);
    const handled = new Set<string>();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let startedFirst = 0;
    const first = await bus.subscribe({
      groupId: group,
      topics: [topic],
      fromBeginning: true,
      handler: async (message) => {
        startedFirst += 1;
        if (startedFirst > 5) await gate;
        handled.add(message.value);
      },
    });
    subscriptions.push(first);
    await bus.publish(topic, values.map((value, i) => ({ key: `key-${i % 8}`, value })));
    await eventually(async () => expect(handled.size).toBe(5), 20_000);
    // Stopped with handlers waiting: they may finish (stop drains), the rest goes to the successor.
    const stopping = first.stop();
    release();
    await stopping;
    const second: string[] = [];
    await collect(group, second as unknown as EventMessage[]);
    await eventually(async () => {
      const all = new Set([...handled, ...(second as unknown as EventMessage[]).map((m) => m.value)]);
      expect(values.filter((value) => !all.has(value))).toEqual([]);
    }, 30_000);
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
